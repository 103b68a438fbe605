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
