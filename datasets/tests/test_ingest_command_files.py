"""ingest: a file that cannot be read is refused with a sentence (the other files still go in),
never a traceback; --wait returns when a document is deleted while it waits, instead of waiting
for it until the timeout."""

from __future__ import annotations

import io
import types
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chatbot_project.errors import APIError
from datasets import services
from datasets.management.commands import ingest as ingest_command
from datasets.models import Document

pytestmark = pytest.mark.django_db

UNREADABLE = Path("/proc/self/mem")  # a regular file whose first read fails (EIO), even as root


def test_an_unreadable_file_is_refused_with_a_sentence(tenant, tmp_path):
    if not UNREADABLE.is_file():
        pytest.skip("needs Linux /proc")
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nSome text to keep.")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 refused, 0 failed"):
        call_command(
            "ingest", str(UNREADABLE), str(note), tenant="acme", dataset="Inbox",
            stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert "cannot be read (Input/output error)" in err.getvalue()
    assert list(Document.objects.values_list("original_filename", flat=True)) == ["note.md"]


def test_document_create_from_path_names_why_a_file_cannot_be_read(tenant, tmp_path):
    dataset, _ = services.dataset_get_or_create(tenant=tenant, name="Inbox")
    for path in (tmp_path / "gone.md", tmp_path):  # missing; a folder
        with pytest.raises(APIError, match="The file cannot be read"):
            services.document_create_from_path(tenant=tenant, dataset=dataset, path=path)
    assert not Document.objects.exists()


def test_wait_returns_when_a_document_is_deleted_meanwhile(tenant, tmp_path, monkeypatch):
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nDeleted while the command waits for a worker.")

    def sleep(seconds: float) -> None:  # no worker here: someone deletes the document instead
        Document.objects.all().delete()

    clock = types.SimpleNamespace(monotonic=ingest_command.time.monotonic, sleep=sleep)
    monkeypatch.setattr(ingest_command, "time", clock)
    out = io.StringIO()
    with pytest.raises(CommandError, match="0 refused, 1 failed"):
        call_command(
            "ingest", str(note), tenant="acme", dataset="Inbox", wait=True, timeout=3,
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    assert "deleted before its ingestion finished" in out.getvalue()
