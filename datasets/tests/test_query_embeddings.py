"""Question embeddings: batched when they arrive together, equal to one-by-one, cached."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import query_embeddings
from datasets.embeddings import get_embedder


@pytest.fixture
def fresh_batcher(monkeypatch):
    monkeypatch.setattr(query_embeddings, "_batcher", None)


def test_concurrent_questions_share_batches_and_match_single(fresh_batcher, monkeypatch):
    embedder = get_embedder()
    calls: list[int] = []
    real = embedder.embed_queries

    def counting(texts):
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setattr(embedder, "embed_queries", counting)
    nonce = np.random.default_rng().integers(1 << 30)
    questions = [f"How do I paginate results, variant {i} ({nonce})?" for i in range(24)]
    futures = [query_embeddings.submit(q) for q in questions]
    vectors = [f.result(timeout=60) for f in futures]
    assert sum(calls) == len(questions)  # each embedded once...
    assert len(calls) < len(questions)  # ...in fewer batches than questions
    for q, vec in zip(questions[:3], vectors[:3], strict=True):
        alone = np.asarray(real([q])[0])
        assert np.allclose(np.asarray(vec), alone, atol=1e-5)
    calls.clear()
    again = query_embeddings.submit(questions[0]).result(timeout=60)  # now from the cache
    assert calls == []
    assert np.allclose(again, vectors[0])
