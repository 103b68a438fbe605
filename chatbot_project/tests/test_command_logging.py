"""A management command's own report is its only output at the default verbosity.

Repro: `manage.py ingest --sync` (and seed_demo) at a terminal printed the datasets loggers' INFO
records ("document ... created (markdown, N bytes)", "document ... ready ...") between its own
lines, one more line per file saying what the command's line said. The console handler
(settings.LOGGING) now shows a command's records below WARNING only at -v 2; WARNING and above
always; the server and the worker (never under a command) log as before."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command

from chatbot_project.logging import command_logging

pytestmark = pytest.mark.django_db


@pytest.fixture
def console():
    """What the project's console handler writes."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def _ingest(tmp_path, **options) -> None:
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nSome text about the widget.")
    call_command(
        "ingest", str(note), tenant="acme", dataset="Inbox", sync=True,
        stdout=io.StringIO(), stderr=io.StringIO(), **options,
    )  # fmt: skip


def test_ingest_shows_no_info_records_at_the_default_verbosity(tenant, tmp_path, console):
    _ingest(tmp_path)
    assert "created" not in console.getvalue(), console.getvalue()
    assert " INFO " not in console.getvalue()
    assert '"info"' not in console.getvalue()


def test_ingest_shows_them_at_verbosity_2(tenant, tmp_path, console):
    _ingest(tmp_path, verbosity=2)
    assert "created" in console.getvalue(), console.getvalue()


def test_warnings_stay_and_outside_a_command_everything_is_logged(console):
    log = logging.getLogger("chatbot.datasets")
    with command_logging(1):
        log.info("quiet info")
        log.warning("loud warning")
    log.info("server info")  # a server or worker: unchanged
    out = console.getvalue()
    assert "quiet info" not in out
    assert "loud warning" in out
    assert "server info" in out
