"""Progress moves during extraction for files without pages (DOCX, text, Markdown, JSON, HTML):
it used to come from PDF page numbers only, so a DOCX stayed at 0 until its chunks were embedded,
and a DOCX deleted meanwhile was extracted and chunked to the end for nothing."""

from __future__ import annotations

import pytest

from datasets.ingestion import Skipped, _Progress, run_pipeline
from datasets.models import Document
from datasets.tests.factories import DocumentFactory


def _progress_of(path, kind, *, embed=False) -> list[float]:
    values: list[float] = []

    def on_progress(value: float, *, force: bool = False) -> None:
        values.append(value)

    run_pipeline(
        path, kind, title=path.stem, chunk_size=200, chunk_overlap=30, embed=embed,
        on_progress=on_progress,
    )  # fmt: skip
    return values


def test_a_docx_reports_progress_all_through_its_extraction(corpus):
    values = _progress_of(corpus / "office" / "handbook-872p.docx", "docx")
    assert values == sorted(values)
    assert values[0] > 0
    assert values[-1] <= 1
    # opening, the walk and the chunking each report: many distinct steps, not one jump
    assert len({round(v, 2) for v in values}) >= 20
    assert any(v < 0.5 for v in values)
    assert any(v > 0.9 for v in values)


def test_extraction_progress_comes_before_the_embedding_share(corpus):
    values = _progress_of(corpus / "office" / "handbook-1p.docx", "docx", embed=True)
    extraction = [v for v in values if v < 0.3]
    assert extraction
    assert values.index(extraction[-1]) < values.index(max(values))
    assert values == sorted(values)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("office/umlauts-utf8.md", "markdown"),
        ("office/arbitrary-records.json", "json"),
        ("office/example-10k-1p.html", "html"),
        ("drf-docs/index.md", "text"),  # read as plain text
    ],
)
def test_other_kinds_without_pages_report_progress_too(corpus, name, kind):
    values = _progress_of(corpus / name, kind)
    assert values
    assert values == sorted(values)
    assert all(0 < v <= 1 for v in values)


@pytest.mark.django_db
def test_a_docx_deleted_while_it_is_extracted_stops_before_embedding(tenant, corpus):
    doc = DocumentFactory(dataset__tenant=tenant, status=Document.Status.PROCESSING, progress=0)
    progress = _Progress(str(doc.pk), lease=None)
    calls: list[float] = []

    def on_progress(value: float, *, force: bool = False) -> None:
        calls.append(value)
        if len(calls) == 1:  # deleted through the API while the worker reads the file
            Document.objects.filter(pk=doc.pk).delete()
        progress(value, force=True)

    with pytest.raises(Skipped):
        run_pipeline(
            corpus / "office" / "handbook-872p.docx", "docx", title="Handbook", chunk_size=200,
            chunk_overlap=30, on_progress=on_progress,
        )  # fmt: skip
    assert len(calls) == 1
    assert calls[0] < 0.3
