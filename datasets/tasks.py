"""Celery tasks of the datasets app (the worker's API: they take ids)."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from datasets.ingestion import (
    RetryableError,
    Skipped,
    fail_document,
    lease_is_live,
    process_document,
)
from datasets.models import Document

log = logging.getLogger("chatbot.ingest")

PROVIDER_RETRIES = 4


class IngestTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """Also called by the pool's parent when the hard time limit kills the child."""
        if isinstance(exc, TimeLimitExceeded) and args:
            fail_document(
                args[0],
                f"Ingestion took longer than {settings.CELERY_TASK_TIME_LIMIT} s and was "
                "killed; split the document into smaller files.",
            )


@shared_task(
    bind=True,
    base=IngestTask,
    name="datasets.ingest_document",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=PROVIDER_RETRIES,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
)
def ingest_document(self, document_id: str) -> str:
    """Ingest one document (see datasets.ingestion). Safe to deliver twice."""
    try:
        return process_document(document_id)
    except Skipped as exc:
        log.info("ingest %s skipped: %s", document_id, exc)
        return "skipped"
    except RetryableError as exc:
        # A provider outage is not the document's fault: give the attempt back and retry later.
        Document.objects.filter(pk=document_id).update(
            status=Document.Status.QUEUED, attempts=F("attempts") - 1, error=""
        )
        if self.request.retries >= PROVIDER_RETRIES:
            return fail_document(
                document_id,
                f"{exc} It kept failing after {PROVIDER_RETRIES + 1} tries; re-ingest later.",
            )
        countdown = min(300, 10 * 2**self.request.retries) * random.uniform(0.5, 1.5)  # noqa: S311
        raise self.retry(countdown=countdown) from exc
    except SoftTimeLimitExceeded:
        return fail_document(
            document_id,
            f"Ingestion took longer than {settings.CELERY_TASK_SOFT_TIME_LIMIT} s and was stopped; "
            "split the document into smaller files.",
        )
    except Exception as exc:
        log.exception("ingest %s crashed", document_id)
        return fail_document(document_id, crash_sentence(exc))


def crash_sentence(exc: Exception) -> str:
    """The ``error`` of a run that crashed (its traceback logged by the caller)."""
    return (
        f"Ingestion failed unexpectedly ({exc.__class__.__name__}); it has been logged. "
        "Try re-ingesting; if it fails again, the file may be malformed."
    )


@shared_task(name="datasets.recover_stalled_documents")
def recover_stalled_documents(include_queued: bool = False) -> int:
    """Re-queue documents left ``processing`` by a worker that died (its lease expired), and
    with ``include_queued`` those ``queued`` for longer than a lease: their task may be gone
    (Redis restarted without its data, or flushed), which left them queued for ever. A
    duplicate task is harmless: the lease and the status make the second one a no-op."""
    count = 0
    for doc_id in Document.objects.filter(status=Document.Status.PROCESSING).values_list(
        "id", flat=True
    ):
        if lease_is_live(str(doc_id)):
            continue
        log.warning("document %s was left processing by a dead worker; re-queueing it", doc_id)
        ingest_document.delay(str(doc_id))
        count += 1
    if include_queued:
        cutoff = timezone.now() - timedelta(seconds=settings.INGEST_LEASE_SECONDS)
        waiting = Document.objects.filter(status=Document.Status.QUEUED, updated_at__lt=cutoff)
        for doc_id in waiting.values_list("id", flat=True):
            ingest_document.delay(str(doc_id))
            count += 1
        if waiting.exists():
            log.info("re-queued the documents waiting since before this worker started")
    return count
