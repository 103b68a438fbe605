"""Celery tasks of the datasets app (the worker's API: they take ids)."""

from __future__ import annotations

import logging
import random

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, close_old_connections
from django.db import OperationalError as DatabaseOperationalError
from django.db.models import F
from django.db.models.functions import Greatest
from redis import RedisError

from datasets.ingestion import (
    RetryableError,
    Skipped,
    fail_document,
    process_document,
)
from datasets.models import Document
from datasets.recovery import mark_queued, sweep, sweep_started, task_started

log = logging.getLogger("chatbot.ingest")

PROVIDER_RETRIES = 4
UNFINISHED = (Document.Status.QUEUED, Document.Status.PROCESSING)


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
    task_started(document_id)
    try:
        return process_document(document_id)
    except Skipped as exc:
        log.info("ingest %s skipped: %s", document_id, exc)
        return "skipped"
    except (RetryableError, DatabaseOperationalError, InterfaceError, RedisError) as exc:
        reason = str(exc)
        if isinstance(exc, RedisError):  # (taking the document's lease)
            log.warning("ingest %s could not reach Redis (%s); retrying", document_id, exc)
            reason = "Redis could not be reached."
        elif not isinstance(exc, RetryableError):  # the database restarted or dropped us
            log.warning("ingest %s lost the database (%s); retrying", document_id, exc)
            close_old_connections()  # a broken connection is replaced by the next query
            reason = "The database could not be reached."
        # An outage is not the document's fault: give the attempt back and retry later (if the
        # database is still down this raises; the workers' sweep re-queues it: recovery.py).
        Document.objects.filter(pk=document_id, status__in=UNFINISHED).update(
            status=Document.Status.QUEUED, attempts=Greatest(F("attempts") - 1, 0), error=""
        )
        if self.request.retries >= PROVIDER_RETRIES:
            return fail_document(
                document_id,
                f"{reason} It kept failing after {PROVIDER_RETRIES + 1} tries; re-ingest later.",
            )
        countdown = min(300, 10 * 2**self.request.retries) * random.uniform(0.5, 1.5)  # noqa: S311
        mark_queued(document_id)
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
    with ``include_queued`` those ``queued`` for longer than a lease whose task is gone (see
    ``datasets.recovery``: the workers also run it every INGEST_SWEEP_SECONDS)."""
    sweep_started()
    return sweep(include_queued=include_queued)
