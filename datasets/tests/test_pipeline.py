"""Extraction, chunking and the ingestion pipeline, in process (the worker runs the same code)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from chatbot_project.errors import APIError
from datasets import services
from datasets.chunking import MODEL_MAX_PIECES, chunk_blocks
from datasets.embeddings import configured_model_name
from datasets.extraction import Block, ExtractionError
from datasets.filetypes import sniff
from datasets.ingestion import process_document, run_pipeline
from datasets.models import Chunk, Document
from datasets.tests.factories import DatasetFactory
from datasets.tokens import count_tokens


def _corpus_files(corpus: Path) -> list[Path]:
    files = []
    for sub in ("pdf", "office", "drf-docs"):
        files += [p for p in sorted((corpus / sub).rglob("*")) if p.is_file()]
    return [p for p in files if p.name not in {"LICENSE", "files.json"}]


def test_every_corpus_file_yields_chunks_or_a_sentence(corpus):
    """Extraction + chunking of every corpus file (embedding is covered by smaller tests)."""
    outcomes = {}
    for path in _corpus_files(corpus):
        try:
            kind = sniff(path, path.name)
            drafts, _, _ = run_pipeline(
                path, kind, title=path.stem, chunk_size=200, chunk_overlap=30, embed=False
            )
        except (ExtractionError, APIError) as exc:
            message = str(exc.detail) if isinstance(exc, APIError) else str(exc)
            assert message.endswith("."), (path.name, message)
            assert len(message.split()) >= 5, (path.name, message)
            outcomes[path.name] = message
            continue
        assert drafts, path.name
        assert all(d.text.strip() for d in drafts)
        assert max(d.token_count for d in drafts) <= MODEL_MAX_PIECES, path.name
        outcomes[path.name] = len(drafts)
    assert "password-protected PDF" in outcomes["libreoffice-writer-password.pdf"]
    assert isinstance(outcomes["handbook-872p.docx"], int)
    assert outcomes["handbook-872p.docx"] > 500
    assert isinstance(outcomes["GeoTopo-komprimiert.pdf"], int)
    assert sum(isinstance(v, int) for v in outcomes.values()) >= 70


def test_extraction_works_with_the_network_blocked(corpus, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    files = [
        corpus / "pdf" / "pdflatex-4-pages.pdf",
        corpus / "pdf" / "habibi.pdf",
        corpus / "office" / "handbook-1p.docx",
        corpus / "office" / "example-10k-1p.html",
        corpus / "office" / "codeblock.md",
        corpus / "office" / "simple.json",
        corpus / "office" / "umlauts-non-utf8.md",
    ]
    for path in files:
        drafts, vectors, _ = run_pipeline(
            path, sniff(path, path.name), title=path.stem, chunk_size=200, chunk_overlap=30
        )
        assert drafts
        assert vectors.shape == (len(drafts), 384)


def test_pdf_arabic_comes_out_in_logical_order(corpus):
    drafts, _, _ = run_pipeline(
        corpus / "pdf" / "habibi.pdf", "pdf", title="", chunk_size=200, chunk_overlap=0, embed=False
    )
    assert "حَبيبي" in drafts[0].text  # pdfium alone would give it reversed
    assert drafts[0].metadata["page"] == 1


def test_charsets_are_detected_from_likely_candidates(corpus):
    from datasets.extraction import extract

    html = " ".join(b.text for b in extract(corpus / "office" / "fake-html-cp1252.html", "html"))
    assert "très" in html or "tr\u00e8s" in html
    md = " ".join(b.text for b in extract(corpus / "office" / "umlauts-non-utf8.md", "markdown"))
    assert "können" in md


def test_html_drops_hidden_blocks_and_keeps_headings():
    from datasets.extraction.html import extract_html

    blocks = list(
        extract_html(
            "<html><body><h1>Guide</h1><p>Visible<b>bold</b>text</p>"
            '<div style="display: none">SECRET XBRL</div><h2>Part</h2><p>More</p></body></html>'
        )
    )
    texts = " ".join(b.text for b in blocks)
    assert "SECRET" not in texts
    assert blocks[0].headings == ("Guide",)
    assert blocks[-1].headings == ("Guide", "Part")
    assert "Visible bold text" in texts


def test_chunking_is_deterministic_and_fits_the_model():
    blocks = [Block("intro " * 50, headings=("Intro",))]
    blocks += [
        Block(f"Sentence {i} is here. " * 30, headings=("Body", "Details")) for i in range(5)
    ]
    blocks.append(Block("def f():\n" + "    x = 1\n" * 200, headings=("Code",), is_code=True))
    first = list(chunk_blocks(blocks, title="Doc", chunk_size=2000, overlap=30))
    second = list(chunk_blocks(blocks, title="Doc", chunk_size=2000, overlap=30))
    assert [(d.text, d.metadata) for d in first] == [(d.text, d.metadata) for d in second]
    for draft in first:
        assert count_tokens(draft.text) == draft.token_count <= MODEL_MAX_PIECES
    assert first[0].text.startswith("Doc > Intro\n\n")
    assert any(d.text.startswith("Doc > Body > Details") for d in first)
    code_chunks = [d for d in first if d.metadata.get("headings") == ["Code"]]
    assert len(code_chunks) > 1
    assert all("x = 1" in d.text for d in code_chunks)
    # The small Intro section shares its chunk with the next section, which keeps its own
    # heading line (datasets/chunk_packing.py); chunks of one section are never joined.
    assert "intro" in first[0].text
    assert "\n\nDoc > Body > Details\n\nSentence 0" in first[0].text
    assert first[0].metadata == {"headings": ["Intro"]}
    assert not any(d.text.count("Doc > Body > Details") > 1 for d in first)


def test_chunk_overlap_repeats_trailing_sentences():
    blocks = [Block(f"Fact number {i} is true.") for i in range(60)]
    drafts = list(chunk_blocks(blocks, title="", chunk_size=64, overlap=16))
    assert len(drafts) > 2
    first_units = drafts[0].text.split("\n\n")
    second_units = drafts[1].text.split("\n\n")
    carried = second_units[: second_units.index(first_units[-1]) + 1]
    assert carried == first_units[-len(carried) :]  # whole trailing sentences repeated
    assert 0 < count_tokens(" ".join(carried)) <= 16


def test_embedder_vectors_are_normalised_deterministic_and_meaningful():
    from datasets.embeddings import get_embedder

    emb = get_embedder()
    assert emb is get_embedder()
    assert emb.dimensions == 384
    assert emb.model_name == configured_model_name()  # "-int8" with onnxruntime (the default)
    docs = [
        "Serializers convert querysets and model instances to JSON.",
        "The weather in spring is mild and rainy.",
        "",
    ]
    vecs = np.asarray(emb.embed_documents(docs))
    assert np.allclose(np.linalg.norm(vecs[:2], axis=1), 1.0, atol=1e-5)
    query = np.asarray(emb.embed_query("How do I turn a model instance into JSON?"))
    assert query @ vecs[0] > query @ vecs[1] + 0.2
    assert np.array_equal(vecs, np.asarray(emb.embed_documents(docs)))
    # Batching by length must not change a text's vector.
    alone = np.asarray(emb.embed_documents([docs[1]]))[0]
    assert np.allclose(alone, vecs[1], atol=1e-5)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "expect"),
    [
        ("truncated.pdf", None, "damaged"),
        ("garbage.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40, "damaged"),
        ("deep.json", b"[" * 10_000 + b"]" * 10_000, "nested deeper"),
        ("scan.pdf", "cmyk-image.pdf", "No text could be extracted"),
        ("secret.pdf", "libreoffice-writer-password.pdf", "password-protected PDF"),
    ],
)
def test_bad_files_fail_with_a_sentence_and_the_next_one_succeeds(
    tenant, corpus, tmp_path, name, content, expect
):
    dataset = DatasetFactory(tenant=tenant)
    if content is None:
        content = (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()[:5000]
    elif isinstance(content, str):
        content = (corpus / "pdf" / content).read_bytes()
    path = tmp_path / name
    path.write_bytes(content)
    doc, created = services.document_create_from_path(tenant=tenant, dataset=dataset, path=path)
    assert created
    assert process_document(doc.pk) == "failed"
    doc.refresh_from_db()
    assert doc.status == "failed"
    assert expect in doc.error
    assert doc.error.endswith(".")
    assert not Chunk.objects.filter(document=doc).exists()
    good, _ = services.document_create_from_text(
        tenant=tenant, dataset=dataset, text="The next document works fine.", title="Next"
    )
    assert process_document(good.pk) == "ready"


@pytest.mark.django_db
def test_chunks_carry_tags_pages_and_replace_atomically(tenant, corpus):
    dataset = DatasetFactory(tenant=tenant)
    doc, _ = services.document_create_from_path(
        tenant=tenant,
        dataset=dataset,
        path=corpus / "pdf" / "pdflatex-4-pages.pdf",
        tags=["manual", "v2"],
    )
    assert process_document(doc.pk) == "ready"
    rows = list(Chunk.objects.filter(document=doc).order_by("index"))
    assert rows
    assert all(r.tags == ["manual", "v2"] for r in rows)
    assert rows[0].metadata["page"] == 1
    assert rows[-1].metadata.get("page_end", rows[-1].metadata["page"]) == 4
    before = [(r.index, r.text) for r in rows]
    Document.objects.filter(pk=doc.pk).update(status="queued")
    assert process_document(doc.pk) == "ready"
    after = list(Chunk.objects.filter(document=doc).order_by("index").values_list("index", "text"))
    assert after == before
    doc.refresh_from_db()
    assert doc.chunk_count == len(before)
    assert doc.page_count == 4
    assert doc.progress == 1.0


@pytest.mark.django_db
def test_page_cap_fails_with_a_sentence(tenant, corpus, settings):
    settings.INGEST_MAX_PAGES = 3
    dataset = DatasetFactory(tenant=tenant)
    doc, _ = services.document_create_from_path(
        tenant=tenant, dataset=dataset, path=corpus / "pdf" / "pdflatex-4-pages.pdf"
    )
    assert process_document(doc.pk) == "failed"
    doc.refresh_from_db()
    assert "3-page limit" in doc.error


@pytest.mark.django_db
def test_a_document_interrupted_too_often_fails_instead_of_looping(tenant):
    dataset = DatasetFactory(tenant=tenant)
    doc, _ = services.document_create_from_text(tenant=tenant, dataset=dataset, text="hello there")
    Document.objects.filter(pk=doc.pk).update(status="processing", attempts=3)
    assert process_document(doc.pk) == "failed"
    doc.refresh_from_db()
    assert "interrupted 3 times" in doc.error


@pytest.mark.django_db
def test_embedding_model_mismatch_is_a_system_check_warning(tenant):
    from datasets.checks import embedding_model_matches

    assert embedding_model_matches() == []
    DatasetFactory(tenant=tenant, name="Old", embedding_model="text-embedding-3-small")
    warnings = embedding_model_matches()
    assert warnings
    assert warnings[0].id == "datasets.W001"
    assert "reembed" in warnings[0].hint


@pytest.mark.django_db
def test_hard_time_limit_marks_the_document_failed(tenant):
    from celery.exceptions import TimeLimitExceeded

    from datasets.tasks import ingest_document

    dataset = DatasetFactory(tenant=tenant)
    doc, _ = services.document_create_from_text(tenant=tenant, dataset=dataset, text="slow")
    Document.objects.filter(pk=doc.pk).update(status="processing")
    # What the pool's parent process calls after killing a child at the hard limit.
    ingest_document.on_failure(TimeLimitExceeded(1800), "task-id", (str(doc.pk),), {}, None)
    doc.refresh_from_db()
    assert doc.status == "failed"
    assert "killed" in doc.error


@pytest.mark.django_db
def test_task_skips_finished_documents_and_recovers_stalled_ones(tenant):
    from datasets.ingestion import LEASE_PREFIX
    from datasets.tasks import ingest_document, recover_stalled_documents

    dataset = DatasetFactory(tenant=tenant)
    doc, _ = services.document_create_from_text(tenant=tenant, dataset=dataset, text="done")
    assert ingest_document.apply(args=(str(doc.pk),)).get() == "ready"
    assert ingest_document.apply(args=(str(doc.pk),)).get() == "skipped"  # late redelivery
    # Left "processing" by a dead worker (no lease) vs held by a live one (lease present).
    Document.objects.filter(pk=doc.pk).update(status="processing")
    from chatbot_project.redis_client import get_redis

    get_redis().set(LEASE_PREFIX + str(doc.pk), "live", ex=60)
    assert recover_stalled_documents.apply().get() == 0
    assert ingest_document.apply(args=(str(doc.pk),)).get() == "skipped"
    get_redis().delete(LEASE_PREFIX + str(doc.pk))
    assert recover_stalled_documents.apply().get() == 1


@pytest.mark.django_db
def test_worker_start_requeues_documents_whose_task_was_lost(tenant):
    """A document queued when Redis lost its data stayed `queued` for ever: nothing re-sent its
    task. A worker's start-up recovery re-queues the ones queued for longer than a lease."""
    from datetime import timedelta

    from django.utils import timezone

    from datasets.tasks import ingest_document, recover_stalled_documents

    dataset = DatasetFactory(tenant=tenant)
    lost, _ = services.document_create_from_text(tenant=tenant, dataset=dataset, text="lost")
    services.document_create_from_text(tenant=tenant, dataset=dataset, text="new")
    Document.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert recover_stalled_documents.apply().get() == 0  # the later start-up run: processing
    from chatbot_project.redis_client import get_redis

    get_redis().delete("celery")  # the broker's queue (the test Redis db)
    assert recover_stalled_documents.apply(kwargs={"include_queued": True}).get() == 1
    queued = [json.loads(m)["headers"] for m in get_redis().lrange("celery", 0, -1)]
    # Only the lost one: the one queued just now has its own task on its way.
    assert [(h["task"], h["argsrepr"]) for h in queued] == [
        (ingest_document.name, repr((str(lost.pk),)))
    ]
