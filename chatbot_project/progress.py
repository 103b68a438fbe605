"""Progress bars of the management commands (``ingest``, ``reembed``, ``reindex_text``,
``export_conversations``, ``purge_conversations``): tqdm at a terminal; elsewhere (cron, a
container's log, a CI job) a plain line every ``LOG_INTERVAL`` seconds and one at the end,
instead of tqdm's carriage-return redraws, which left ``\\r`` noise and one giant line in logs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO, Any

from tqdm import tqdm

LOG_INTERVAL = 30.0  # seconds between two lines of a bar written to a log


class _Lines:
    """A file for tqdm that turns each redraw into one line (tqdm writes ``\\r`` + the bar +
    spaces over the previous one)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line:
            self.out.write(line + "\n")

    def flush(self) -> None:
        self.out.flush()


def _at_terminal(out: IO[str]) -> bool:
    isatty = getattr(out, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def progress(iterable: Iterable[Any] | None = None, *, file: IO[str] | None = None, **kw: Any):
    """``tqdm(iterable, file=file, **kw)`` drawn at a terminal, written as lines elsewhere."""
    out = file if file is not None else sys.stderr
    if _at_terminal(out):
        return tqdm(iterable, file=out, **kw)
    kw.setdefault("mininterval", LOG_INTERVAL)
    kw.setdefault("maxinterval", LOG_INTERVAL)
    return tqdm(iterable, file=_Lines(out), ascii=True, dynamic_ncols=False, ncols=80, **kw)
