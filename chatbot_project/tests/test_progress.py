"""Command progress bars: tqdm at a terminal, plain lines in a log (chatbot_project.progress)."""

from __future__ import annotations

import io

from chatbot_project import progress as progress_module
from chatbot_project.progress import progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_lines_without_carriage_returns_and_a_last_line_with_the_total(monkeypatch):
    monkeypatch.setattr(progress_module, "LOG_INTERVAL", 0.0)
    out = io.StringIO()
    for _ in progress(range(5), file=out, desc="ingest", unit="doc", mininterval=0):
        pass
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines[0].startswith("ingest:   0%")
    assert lines[-1].startswith("ingest: 100%")
    assert "5/5" in lines[-1]
    assert all(len(line) <= 80 for line in lines)


def test_a_log_is_written_at_most_every_interval_and_at_the_end():
    out = io.StringIO()
    with progress(total=1000, file=out, desc="reembed", unit="chunk") as bar:
        for _ in range(1000):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # the start and the end: the loop took less than LOG_INTERVAL
    assert "1000/1000" in lines[-1]


def test_a_terminal_gets_the_redrawn_bar():
    out = _Terminal()
    for _ in progress(range(3), file=out, desc="upload", mininterval=0):
        pass
    assert "\r" in out.getvalue()


def test_a_disabled_bar_writes_nothing():
    out = io.StringIO()
    for _ in progress(range(3), file=out, disable=True):
        pass
    assert out.getvalue() == ""
