"""Waiting for documents in a management command (``ingest --wait``, ``reingest --wait``): a
progress bar until every document is ready or failed (or deleted), given up once nothing has
moved for ``timeout`` seconds, with a note at once when no Celery worker answers a ping (the bar
stayed at 0 without a word until the timeout)."""

from __future__ import annotations

import time
from collections.abc import Callable

from chatbot_project.commands import NO_WORKER, worker_answers
from chatbot_project.progress import progress
from datasets.models import Document

TERMINAL = {Document.Status.READY, Document.Status.FAILED}


def wait_for_documents(
    ids: list, timeout: float, *, desc: str, note: Callable[[str], None], instead: str = ""
) -> int:
    """How many of ``ids`` had not ended when nothing moved for ``timeout`` s (0: all ended).
    ``note`` says (on stderr) that no worker answered; ``instead``: what the command offers
    in its place (ingest's ``--sync``), appended to that sentence."""
    pending = Document.objects.filter(pk__in=ids).exclude(status__in=TERMINAL).exists()
    if pending and not worker_answers():
        note(
            f"{NO_WORKER}{instead}. Waiting while they move, up to {timeout:g} s without "
            "progress (--timeout)."
        )
    moved_at, last = time.monotonic(), None
    with progress(total=len(ids), desc=desc, unit="doc") as bar:
        while True:
            rows = list(
                Document.objects.filter(pk__in=ids).values_list("status", "progress", "error")
            )
            ended = [(status, error) for status, _, error in rows if status in TERMINAL]
            done = len(ended) + len(ids) - len(rows)  # (a deleted one never finishes)
            partial = sum(p for status, p, _ in rows if status not in TERMINAL)
            failed = sum(1 for status, error in ended if status == "failed" or error)
            bar.n = round(done + partial, 2)
            bar.set_postfix_str(f"{len(ended) - failed} ready, {failed} failed", refresh=False)
            bar.refresh()
            if done == len(ids):
                return 0
            if (done, partial) != last:
                moved_at, last = time.monotonic(), (done, partial)
            elif time.monotonic() - moved_at > timeout:
                return len(ids) - done
            time.sleep(0.5)
