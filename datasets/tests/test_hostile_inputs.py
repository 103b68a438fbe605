"""Hostile files a customer may post, found by black-box testing: each must end ``failed`` with a
sentence, or ``ready`` with what it holds, never an unexpected crash or a document left
``processing``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets import services
from datasets.embeddings import EmbeddingError
from datasets.models import Chunk, Document
from datasets.tasks import ingest_document
from datasets.tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def _ingest_file(tenant, tmp_path, name: str, content: bytes) -> Document:
    """Post ``content`` as a file and run the worker's task on it, as a worker would."""
    path = tmp_path / name
    path.write_bytes(content)
    dataset = DatasetFactory(tenant=tenant)
    doc, created = services.document_create_from_path(tenant=tenant, dataset=dataset, path=path)
    assert created
    ingest_document.apply(args=[str(doc.pk)])
    doc.refresh_from_db()
    return doc


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        # Escapes json.loads decodes into what a chunk cannot hold: NUL (PostgreSQL text) and
        # an unpaired surrogate (no UTF-8; the tokenizer raised TypeError).
        (b'{"note": "before\\u0000after the NUL character"}', "before after the NUL"),
        (b'{"note": "a lone \\ud800 surrogate in a record"}', "a lone \ufffd surrogate"),
        (b'{"k\\u0000ey": "a NUL in a key"}', "k ey: a NUL in a key"),
    ],
)
def test_json_escapes_of_characters_a_chunk_cannot_hold_are_cleaned(
    tenant, tmp_path, content, expect
):
    doc = _ingest_file(tenant, tmp_path, "data.json", content)
    assert doc.status == "ready", doc.error
    assert expect in Chunk.objects.get(document=doc).text


def test_json_with_an_integer_too_long_to_convert_fails_with_a_sentence(tenant, tmp_path):
    """Python refuses to parse integers over 4,300 digits with a plain ValueError (no ``msg``
    or ``lineno``, which the error sentence read: AttributeError, "failed unexpectedly")."""
    doc = _ingest_file(tenant, tmp_path, "big.json", b'{"n": ' + b"9" * 5000 + b"}")
    assert doc.status == "failed"
    assert doc.error == (
        "The JSON holds a number longer than 4,300 digits, which cannot be read; store it as a "
        "string."
    )


@pytest.mark.parametrize(
    ("crash", "expect"),
    [
        (KeyError("boom"), "Ingestion failed unexpectedly (KeyError); it has been logged."),
        # A provider outage, which the worker's task retries later: nobody retries it here.
        (
            EmbeddingError("The embedding provider is unavailable.", retryable=True),
            "The embedding provider is unavailable. Re-ingest it later.",
        ),
    ],
)
def test_ingest_sync_records_a_failed_run_and_goes_on(tenant, tmp_path, monkeypatch, crash, expect):
    """``ingest --sync`` runs the pipeline without the worker's task around it: a crash while
    processing one file left that document ``processing`` with no error for ever, and the
    files after it ``queued``, with a traceback instead of the command's summary."""
    from datasets.extraction import text as text_extraction

    real = text_extraction.read_text

    def read_text(path, declared=None):
        if "boom" in path.read_bytes().decode():
            raise crash
        return real(path, declared)

    monkeypatch.setattr(text_extraction, "read_text", read_text)
    (tmp_path / "a_boom.txt").write_text("boom goes this file")
    (tmp_path / "b_fine.txt").write_text("This file is fine and has text.")
    with pytest.raises(CommandError, match="0 refused, 1 failed"):
        call_command(
            "ingest", "--tenant", tenant.slug, "--dataset", "Crash", str(tmp_path), "--sync"
        )
    docs = {d.original_filename: d for d in Document.objects.filter(dataset__name="Crash")}
    assert docs["a_boom.txt"].status == "failed"
    assert docs["a_boom.txt"].error.startswith(expect)
    assert docs["b_fine.txt"].status == "ready"
