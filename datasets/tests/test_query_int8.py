"""Questions through the int8 onnxruntime encoder (datasets/embedders/minilm_onnx.py): close to
the float32 numpy pass, deterministic whatever else is embedded with them, and switchable off."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from datasets.embedders import minilm_onnx
from datasets.embeddings import get_embedder

pytestmark = pytest.mark.skipif(not minilm_onnx.available(), reason="onnxruntime not installed")

DEV = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "drf-qa-dev.jsonl"


def _questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV.read_text().splitlines() if line.strip()]


def test_int8_questions_stay_close_to_float32_and_rank_alike():
    embedder = get_embedder()
    assert embedder.query_precision == "int8"
    questions = _questions()
    int8 = embedder.embed_queries(questions)
    fp32 = embedder.embed_array(questions)
    cosines = (int8 * fp32).sum(axis=1)
    assert cosines.min() >= 0.99, cosines.min()
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    # The nearest of the other questions is the same one in both precisions for almost all.
    same = (np.argsort(-(int8 @ fp32.T), axis=1)[:, 0] == np.arange(len(questions))).mean()
    assert same == 1.0


def test_a_question_vector_does_not_depend_on_its_batch():
    embedder = get_embedder()
    questions = _questions()[:6]
    together = embedder.embed_queries(questions)
    for i, q in enumerate(questions):
        assert np.array_equal(embedder.embed_queries([q])[0], together[i])


def test_fp32_setting_uses_the_numpy_pass(monkeypatch):
    from datasets.embedders.minilm import MiniLMEmbedder

    monkeypatch.setenv("QUERY_EMBEDDING_PRECISION", "fp32")
    embedder = get_embedder()
    fresh = MiniLMEmbedder.__new__(MiniLMEmbedder)  # share the loaded weights, not the setting
    fresh.__dict__.update(embedder.__dict__, _query_precision=None)
    assert fresh.query_precision == "fp32"
    q = _questions()[:2]
    assert np.array_equal(fresh.embed_queries(q), embedder.embed_array(q))


def test_float32_graph_matches_the_numpy_pass_with_padding():
    """The fused graph (MultiHeadAttention with a key padding mask, Gelu) computes what the
    numpy pass does, also for the padded rows of a batch of unequal lengths."""
    embedder = get_embedder()
    session = minilm_onnx.build_session(embedder._layers, int8=False)
    texts = ["short", "A much longer question about throttling anonymous API clients per day?"]
    via_graph = embedder.embed_array(texts, session=session)
    assert np.abs(via_graph - embedder.embed_array(texts)).max() < 1e-4
