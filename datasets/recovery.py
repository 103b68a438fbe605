"""Nothing stays stuck: the workers' sweep of documents whose task is gone.

A document is ``queued`` or ``processing`` only while a task will finish it. Two things prove
that one will:
- ``ingest:lease:<id>`` (``datasets.ingestion.Lease``): a live worker is processing it;
- ``ingest:queued:<id>`` (here): its task was published and has not started yet. It is set just
  before the task is published (``queue_ingestion``) and removed when the task starts
  (``task_started``). It lives in the broker's Redis, so a Redis that loses its data (restarted
  without persistence, flushed) loses it with the message; it expires after an hour or more
  (``_mark_seconds``) in case the message alone was dropped (``celery purge``).

``sweep`` re-queues every document with neither: ``processing`` whose worker died (a pool
process OOM-killed while its worker lives on gets its message back at once, before its lease
expires, and that redelivery is skipped as "another worker holds the document"; a whole worker
killed; a task that crashed while the database was down), and ``queued`` for longer than a lease
whose publish failed (Redis down at upload) or whose message was lost. A thread of each worker's
main process has it run when the worker starts and then every ``INGEST_SWEEP_SECONDS`` (one task
for all workers at a time). Re-queueing is bounded: each run of a document counts in
``attempts``, and the fourth fails it with a sentence (``ingestion.MAX_ATTEMPTS``). Two sweeps at
once publish one task per document: the mark is claimed with ``SET NX``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone

from datasets.ingestion import LEASE_PREFIX
from datasets.models import Document

log = logging.getLogger("chatbot.ingest")

QUEUED_PREFIX = "ingest:queued:"
SWEEP_KEY = "ingest:sweep"


def _mark_seconds() -> int:
    """How long a published task's mark proves it waits: past the broker's redelivery of an
    unacknowledged message (visibility timeout) and at least an hour of backlog. A backlog
    older than that gets one duplicate task per document, skipped by the worker in ms."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return max(3600, int(visibility) + 60)


def _redis():
    from chatbot_project.redis_client import get_redis

    return get_redis()


def queue_ingestion(document_id: str) -> None:
    """Publish the document's task, marked as on its way. Raises the broker's error when Redis
    is down (the callers turn it into a 503 or a sentence); the sweep queues it later."""
    from datasets.tasks import ingest_document

    document_id = str(document_id)
    key = QUEUED_PREFIX + document_id
    with contextlib.suppress(redis.RedisError):  # down: the publish below says so
        _redis().set(key, "1", ex=_mark_seconds())
    try:
        ingest_document.delay(document_id)
    except Exception:
        with contextlib.suppress(redis.RedisError):
            _redis().delete(key)
        raise


def mark_queued(document_id: str) -> None:
    """A task re-publishing itself (a retry with a countdown) is on its way too, and so is a
    document ``ingest --sync`` will process itself."""
    with contextlib.suppress(redis.RedisError):
        _redis().set(QUEUED_PREFIX + str(document_id), "1", ex=_mark_seconds())


def task_started(document_id: str) -> None:
    """Its run began (the task; ``ingest --sync`` once it processed it): the mark goes."""
    with contextlib.suppress(redis.RedisError):  # down: no task could have been delivered
        _redis().delete(QUEUED_PREFIX + str(document_id))


BATCH = 500  # documents per Redis round trip


def _requeue(ids: list[str], why: str) -> int:
    """Claim each document's mark (``SET NX``: not when its task is on its way, or another
    sweep just sent one) and publish a task for those claimed; returns how many."""
    from datasets.tasks import ingest_document

    count = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        pipe = _redis().pipeline(transaction=False)
        for document_id in batch:
            pipe.set(QUEUED_PREFIX + document_id, "1", nx=True, ex=_mark_seconds())
        for document_id, claimed in zip(batch, pipe.execute(), strict=True):
            if not claimed:
                continue
            try:
                ingest_document.delay(document_id)
            except Exception:
                with contextlib.suppress(redis.RedisError):
                    _redis().delete(QUEUED_PREFIX + document_id)
                raise
            log.warning("document %s %s; re-queued it", document_id, why)
            count += 1
    return count


def sweep(*, include_queued: bool = True) -> int:
    """Re-queue the documents no task will finish (see the module); returns how many."""
    processing = Document.objects.filter(status=Document.Status.PROCESSING)
    ids = [str(pk) for pk in processing.values_list("id", flat=True)]
    pipe = _redis().pipeline(transaction=False)
    for document_id in ids:
        pipe.exists(LEASE_PREFIX + document_id)
    dead = [d for d, live in zip(ids, pipe.execute() if ids else [], strict=True) if not live]
    count = _requeue(dead, "was left processing by a worker that stopped")
    if not include_queued:
        return count
    # Queued just now: its publish follows the commit within milliseconds; leave it that long.
    cutoff = timezone.now() - timedelta(seconds=settings.INGEST_LEASE_SECONDS)
    waiting = Document.objects.filter(status=Document.Status.QUEUED, updated_at__lt=cutoff)
    ids = [str(pk) for pk in waiting.values_list("id", flat=True)]
    return count + _requeue(ids, "was queued but its task was lost or never sent")


def publish_sweep() -> bool:
    """Publish one ``recover_stalled_documents`` task unless one is already on its way (every
    worker calls this every interval; ``SWEEP_KEY`` keeps it to one task for all of them)."""
    from datasets.tasks import recover_stalled_documents

    ttl = max(300, 2 * settings.INGEST_SWEEP_SECONDS)  # a lost sweep task is replaced after it
    if not _redis().set(SWEEP_KEY, "1", nx=True, ex=ttl):
        return False
    try:
        recover_stalled_documents.delay(include_queued=True)
    except Exception:
        with contextlib.suppress(redis.RedisError):
            _redis().delete(SWEEP_KEY)
        raise
    return True


def sweep_started() -> None:
    with contextlib.suppress(redis.RedisError):
        _redis().delete(SWEEP_KEY)


class Sweeper(threading.Thread):
    """In a worker's main process: has the sweep run now and every ``interval`` seconds (0: once
    more after a lease, for a document whose worker died just before this one started).

    It only publishes the task (``publish_sweep``): the sweep itself runs in a pool process. The
    main process keeps no database connection: a pool process forked later (to replace one that
    died) would inherit its connection pool and share those sockets with it."""

    def __init__(self, interval: float, lease_seconds: float) -> None:
        super().__init__(name="ingest-sweeper", daemon=True)
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        self._once()
        if not self.interval:
            if not self.stopped.wait(self.lease_seconds + 1):
                self._once()
            return
        while not self.stopped.wait(self.interval):
            self._once()

    def _once(self) -> None:
        try:
            publish_sweep()
        except Exception as exc:  # Redis down: the next round tries again
            log.warning("could not schedule the sweep of stalled documents (%s)", exc)
