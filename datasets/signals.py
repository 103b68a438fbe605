"""Worker start-up: recover documents a killed worker left ``processing``.

A message being processed when its worker is SIGKILLed stays unacknowledged in Redis until the
broker's visibility timeout (longer than the task time limit), so waiting for redelivery could
take half an hour. Instead, every worker that starts schedules ``recover_stalled_documents`` to
run once the dead worker's lease can have expired; the late redelivery, when it comes, finds the
document finished and is skipped.
"""

from __future__ import annotations

import logging

from celery.signals import worker_ready
from django.conf import settings

log = logging.getLogger("chatbot.ingest")


@worker_ready.connect
def _recover_on_start(sender=None, **kwargs) -> None:
    from datasets.tasks import recover_stalled_documents

    try:
        # Leases already gone, and documents queued before this start whose task may be lost.
        recover_stalled_documents.delay(include_queued=True)
        recover_stalled_documents.apply_async(countdown=settings.INGEST_LEASE_SECONDS + 1)
    except Exception:
        log.exception("could not schedule the recovery of stalled documents")
