"""Worker start-up: the sweep of documents whose task is gone (``datasets.recovery``).

A message being processed when its worker is SIGKILLed stays unacknowledged in Redis until the
broker's visibility timeout (longer than the task time limit), so waiting for redelivery could
take half an hour; a pool process killed while its worker lives on gets its message back at
once, and that redelivery is skipped while the dead process's lease lasts. Instead, every
worker sweeps when it starts and then every ``INGEST_SWEEP_SECONDS`` (0: once more after a
lease only), re-queueing documents no task will finish; a late redelivery, when it comes, finds
the document finished and is skipped.
"""

from __future__ import annotations

import logging

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings

log = logging.getLogger("chatbot.ingest")

_sweepers: list = []


@worker_ready.connect
def _recover_on_start(sender=None, **kwargs) -> None:
    from datasets.recovery import Sweeper

    try:
        sweeper = Sweeper(settings.INGEST_SWEEP_SECONDS, settings.INGEST_LEASE_SECONDS)
        sweeper.start()
        _sweepers.append(sweeper)
    except Exception:
        log.exception("could not start the sweep of stalled documents")


@worker_shutdown.connect
def _stop_sweeping(sender=None, **kwargs) -> None:
    while _sweepers:
        _sweepers.pop().stopped.set()
