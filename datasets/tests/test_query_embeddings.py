"""Question embeddings: batched when they arrive together, equal to one-by-one, cached."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import query_embeddings
from datasets.embeddings import get_embedder


def count_calls(monkeypatch, owner, name) -> list[int]:
    """Replace ``owner.name`` by a wrapper that records the length of each call's argument."""
    calls: list[int] = []
    real = getattr(owner, name)

    def counting(arg):
        calls.append(len(arg))
        return real(arg)

    monkeypatch.setattr(owner, name, counting)
    return calls


T = "0b0e5a3c-7f39-4a4e-9f43-2d1c6b8f4a11"  # a tenant id: each tenant has its own entries


@pytest.fixture
def fresh_batcher(monkeypatch):
    monkeypatch.setattr(query_embeddings, "_batcher", None)


def test_concurrent_questions_share_batches_and_match_single(fresh_batcher, monkeypatch):
    embedder = get_embedder()
    real = embedder.embed_queries
    calls = count_calls(monkeypatch, embedder, "embed_queries")
    nonce = np.random.default_rng().integers(1 << 30)
    questions = [f"How do I paginate results, variant {i} ({nonce})?" for i in range(24)]
    futures = [query_embeddings.submit(q, tenant_id=T) for q in questions]
    vectors = [f.result(timeout=60) for f in futures]
    assert sum(calls) == len(questions)  # each embedded once...
    assert len(calls) < len(questions)  # ...in fewer batches than questions
    for q, vec in zip(questions[:3], vectors[:3], strict=True):
        alone = np.asarray(real([q])[0])
        assert np.allclose(np.asarray(vec), alone, atol=1e-5)
    calls.clear()
    again = query_embeddings.submit(questions[0], tenant_id=T).result(timeout=60)  # cached
    assert calls == []
    assert np.allclose(again, vectors[0])


def test_loop_lookup_finds_cached_questions_and_hands_misses_to_the_thread(
    fresh_batcher, monkeypatch
):
    """``aprefetch``: the cache GET runs on the event loop; a hit never reaches the embedding
    thread, a miss is embedded there without a second lookup, and before the embedder is built
    the loop does nothing (the thread builds it and looks the question up)."""
    import asyncio

    embedder = get_embedder()
    nonce = np.random.default_rng().integers(1 << 30)
    question = f"Which renderer handles browsable responses? ({nonce})"
    looked_up = count_calls(monkeypatch, query_embeddings, "_cache_get")
    monkeypatch.setattr(query_embeddings, "_warm_embedder", None)
    assert asyncio.run(query_embeddings.alookup(question, T)) == (None, None)

    first = query_embeddings.submit(question, tenant_id=T).result(timeout=60)  # thread looks up
    assert looked_up == [1]
    assert query_embeddings._warm_embedder is embedder

    fresh = f"{question} (not cached)"
    key, vector = asyncio.run(query_embeddings.alookup(fresh, T))
    assert key == query_embeddings._key(embedder, fresh, T)
    assert vector is None
    computed = query_embeddings.after_lookup(fresh, key, vector, tenant_id=T).result(timeout=60)
    assert looked_up == [1]  # the miss was not looked up again in the thread
    assert np.allclose(computed, embedder.embed_queries([fresh])[0], atol=1e-6)

    future = asyncio.run(query_embeddings.aprefetch(question, T))  # cached: answered on the loop
    assert future.done()
    assert np.allclose(future.result(), first)
    assert looked_up == [1]
