"""A document deleted (or its dataset) while a worker ingests it stops at the worker's next
progress write instead of being extracted and embedded to the end for nothing (minutes of the
only worker on a large file, with every other document waiting behind it)."""

from __future__ import annotations

import pytest

from datasets.ingestion import Skipped, _Progress, run_pipeline
from datasets.models import Document
from datasets.tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def test_progress_of_a_deleted_document_stops_the_run(tenant):
    doc = DocumentFactory(dataset__tenant=tenant, status=Document.Status.PROCESSING, progress=0)
    progress = _Progress(str(doc.pk), lease=None)
    progress(0.2, force=True)
    assert Document.objects.get(pk=doc.pk).progress == 0.2
    Document.objects.filter(pk=doc.pk).delete()
    with pytest.raises(Skipped, match="deleted while processing"):
        progress(0.5, force=True)


def test_a_run_stops_at_the_first_batch_after_the_deletion(tenant, tmp_path):
    doc = DocumentFactory(dataset__tenant=tenant, status=Document.Status.PROCESSING, progress=0)
    path = tmp_path / "long.txt"
    path.write_text("\n\n".join(f"Paragraph {i}. " + "word " * 150 for i in range(300)))
    progress = _Progress(str(doc.pk), lease=None)
    calls = []

    def on_progress(value: float, *, force: bool = False) -> None:
        calls.append(value)
        if len(calls) == 1:  # deleted through the API while the worker embeds
            Document.objects.filter(pk=doc.pk).delete()
        progress(value, force=True)

    with pytest.raises(Skipped):
        run_pipeline(
            path, "text", title="Long", chunk_size=200, chunk_overlap=30, on_progress=on_progress
        )
    assert len(calls) == 1


def test_a_document_deleted_while_it_is_embedded_stops_within_one_forward_pass(tenant, tmp_path):
    """The local model reports progress after each forward pass (~10 chunks, ~1 s on 2 cores),
    not after each 64 chunks: the handbook (872 pages, 1,157 chunks) deleted mid-embedding kept
    the worker busy 7-8 s more, now ~1 s."""
    doc = DocumentFactory(dataset__tenant=tenant, status=Document.Status.PROCESSING, progress=0)
    path = tmp_path / "long.txt"
    path.write_text("\n\n".join(f"Paragraph {i}. " + "word " * 150 for i in range(300)))
    progress = _Progress(str(doc.pk), lease=None)
    embedding: list[float] = []

    def on_progress(value: float, *, force: bool = False) -> None:
        if value > 0.3:  # extraction reports up to 0.3, embedding after it
            embedding.append(value)
        progress(value, force=True)  # every step checks (the real one may skip 0.5 s apart)
        if len(embedding) == 1:  # deleted through the API while the worker embeds
            Document.objects.filter(pk=doc.pk).delete()

    with pytest.raises(Skipped):
        run_pipeline(
            path, "text", title="Long", chunk_size=200, chunk_overlap=30, on_progress=on_progress
        )
    chunks = 300  # one per paragraph
    embedded_after_deletion = round((embedding[-1] - embedding[0]) / 0.65 * chunks)
    assert len(embedding) == 2
    assert 0 < embedded_after_deletion <= 16  # one forward pass; it was a 64-chunk batch
