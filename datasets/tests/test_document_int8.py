"""Document chunks through the int8 onnxruntime encoder (DOCUMENT_EMBEDDING_PRECISION, default
int8): one chunk per call, so a chunk's vector never depends on the chunks embedded with it;
close to the float32 numpy pass; labelled apart from float32 chunks (so ``reembed`` re-embeds a
dataset embedded the other way); float32 without onnxruntime; progress still reported.

Before: chunks were embedded by the float32 numpy pass only, ~13-16 chunks/s on 2 cores (the
872-page DOCX ~80 s); int8 measured ~3.5x faster with dev-set retrieval as good (bench/README.md,
"Chunk embeddings in int8")."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command

from chatbot_project.testing.processes import child_env
from chatbot_project.tests.test_bad_setting_processes import MANAGE, assert_one_sentence, run
from datasets.embedders import minilm, minilm_onnx
from datasets.embeddings import configured_model_name, get_embedder
from datasets.ingestion import run_pipeline
from datasets.models import Document
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory

needs_onnx = pytest.mark.skipif(not minilm_onnx.available(), reason="onnxruntime not installed")

CHUNKS = [
    "Throttling limits how many requests a client may make; AnonRateThrottle counts by address.",
    "Serializers turn querysets and model instances into native Python datatypes.",
    "short",
    "CursorPagination gives opaque next and previous pointers that stay stable while new "
    "items are inserted. " * 8,  # long: its own length, padding never shared with the others
    "",
]


@needs_onnx
def test_a_chunk_vector_does_not_depend_on_the_chunks_embedded_with_it():
    embedder = get_embedder()
    assert embedder.document_precision == "int8"
    together = embedder.embed_chunks(CHUNKS)
    reversed_ = embedder.embed_chunks(CHUNKS[::-1])[::-1]
    assert np.array_equal(together, reversed_)
    for i, text in enumerate(CHUNKS):
        assert np.array_equal(embedder.embed_chunks([text])[0], together[i])
    assert np.array_equal(np.asarray(embedder.embed_documents(CHUNKS), dtype=np.float32), together)


@needs_onnx
def test_int8_chunks_stay_close_to_float32():
    embedder = get_embedder()
    int8 = embedder.embed_chunks(CHUNKS)
    fp32 = embedder.embed_array(CHUNKS)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    cosines = (int8 * fp32).sum(axis=1)
    assert cosines.min() >= 0.98, cosines
    assert not np.array_equal(int8, fp32)  # really the int8 path


@needs_onnx
def test_the_label_says_int8_or_fp32(settings):
    embedder = get_embedder()
    assert embedder.model_name == configured_model_name() == "local-minilm-l6-v2-int8"
    settings.DOCUMENT_EMBEDDING_PRECISION = "fp32"
    assert embedder.document_precision == "fp32"
    assert embedder.model_name == configured_model_name() == "local-minilm-l6-v2"
    assert np.array_equal(embedder.embed_chunks(CHUNKS), embedder.embed_array(CHUNKS))


def test_without_onnxruntime_chunks_are_float32(monkeypatch):
    monkeypatch.setattr(minilm, "_onnx_available", lambda: False)
    embedder = get_embedder()
    assert embedder.document_precision == "fp32"
    assert embedder.model_name == configured_model_name() == "local-minilm-l6-v2"
    assert np.array_equal(
        np.asarray(embedder.embed_documents(CHUNKS), dtype=np.float32),
        embedder.embed_array(CHUNKS),
    )


def test_a_bad_precision_is_one_sentence_at_start():
    done = run(MANAGE, child_env(DOCUMENT_EMBEDDING_PRECISION="int4"))
    assert_one_sentence(
        done,
        "ImproperlyConfigured: DOCUMENT_EMBEDDING_PRECISION='int4' must be one of "
        "['fp32', 'int8'].",
    )


@needs_onnx
def test_ingestion_reports_progress_while_it_embeds_in_int8(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text(
        "\n\n".join(
            f"## Part {i}\n\n" + f"Sentence {i} about throttling and pagination. " * 30
            for i in range(40)
        )
    )
    seen: list[float] = []
    drafts, vectors, _ = run_pipeline(
        path, "markdown", title="guide", chunk_size=120, chunk_overlap=10,
        on_progress=lambda v, **kw: seen.append(v),
    )  # fmt: skip
    assert len(drafts) > 20
    embedding = [v for v in seen if 0.3 < v <= 0.95]
    assert len(embedding) >= len(drafts)  # after each chunk (the writes are throttled apart)
    assert embedding == sorted(embedding)
    assert embedding[-1] == pytest.approx(0.95)
    expected = get_embedder().embed_chunks([d.text for d in drafts])
    assert np.array_equal(vectors, expected)


@pytest.mark.django_db
def test_reembed_fixes_a_dataset_whose_documents_were_embedded_otherwise(tenant):
    """A dataset labelled with the current model but holding a document embedded another way
    (float32 chunks, e.g. ingested by a worker configured otherwise) was skipped by reembed."""
    current = configured_model_name()
    other = "local-minilm-l6-v2" if current.endswith("-int8") else "local-minilm-l6-v2-int8"
    dataset = DatasetFactory(tenant=tenant, name="Mixed", embedding_model=current)
    odd = DocumentFactory(dataset=dataset, embedding_model=other)
    chunk = ChunkFactory(document=odd, text="Routers map URLs to viewsets.", embedding=[0.0] * 384)
    DatasetFactory(tenant=tenant, name="Clean", embedding_model=current)
    out = io.StringIO()
    call_command("reembed", stdout=out, stderr=io.StringIO())
    assert "Mixed: 1 chunks re-embedded" in out.getvalue()
    assert "Clean" not in out.getvalue()
    chunk.refresh_from_db()
    odd.refresh_from_db()
    assert odd.embedding_model == current
    assert np.array_equal(
        np.asarray(chunk.embedding, dtype=np.float32),
        np.asarray(get_embedder().embed_documents([chunk.text])[0], dtype=np.float32),
    )
    out = io.StringIO()
    call_command("reembed", stdout=out)
    assert "already embedded" in out.getvalue()
    assert Document.objects.filter(dataset=dataset).exclude(embedding_model=current).count() == 0


@pytest.mark.django_db
def test_the_system_check_reports_a_dataset_holding_documents_embedded_otherwise(tenant):
    from datasets.checks import embedding_model_matches

    current = configured_model_name()
    other = "local-minilm-l6-v2" if current.endswith("-int8") else "local-minilm-l6-v2-int8"
    dataset = DatasetFactory(tenant=tenant, name="Mixed", embedding_model=current)
    DocumentFactory(dataset=dataset, embedding_model=current)
    assert embedding_model_matches() == []
    DocumentFactory(dataset=dataset, embedding_model=other)
    (message,) = embedding_model_matches()
    assert message.id == "datasets.I001"  # same model, other precision: information
    assert f"'Mixed' (documents in {other})" in message.msg
    DocumentFactory(dataset=dataset, embedding_model="text-embedding-3-small")
    warning, info = embedding_model_matches()
    assert warning.id == "datasets.W001"  # another model: a warning, as for a whole dataset
    assert "'Mixed' (documents in text-embedding-3-small)" in warning.msg
    assert info.id == "datasets.I001"


@pytest.mark.django_db
def test_datasets_embedded_in_float32_before_the_upgrade_are_information(tenant):
    """After the upgrade every dataset embedded before carries the float32 label: reported
    (reembed makes it uniform), but not a warning: `check --deploy --fail-level WARNING`
    (make hardening, test_hsts_preload) failed on any instance with documents."""
    from django.core.checks import INFO

    from datasets.checks import embedding_model_matches

    current = configured_model_name()
    other = "local-minilm-l6-v2" if current.endswith("-int8") else "local-minilm-l6-v2-int8"
    old = DatasetFactory(tenant=tenant, name="Before", embedding_model=other)
    DocumentFactory(dataset=old, embedding_model=other)
    (message,) = embedding_model_matches()
    assert message.level == INFO
    assert message.id == "datasets.I001"
    assert f"'Before' ({other})" in message.msg
    assert "reembed" in message.hint
