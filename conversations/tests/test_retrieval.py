"""The retrieval engine and POST /v1/retrieve: tenant first, datasets, scope tags, documents in use,
modes, thresholds, the query-embedding cache, and no leak across tenants."""

from __future__ import annotations

import random

import numpy as np
import pytest

from chatbot_project.redis_client import get_redis
from conversations.tests.conftest import build_kb, embed_cached
from conversations.tests.factories import ScopeFactory
from datasets.models import Document
from datasets.retrieval import EXACT_SCAN_MAX_ROWS, retrieve, vector_search
from datasets.tests.factories import ChunkFactory, DocumentFactory

pytestmark = pytest.mark.django_db

Q = "How do I limit anonymous clients per day?"
CANARY = "ZEBRA-CANARY-4471"


def titles(results):
    return [r.document_title for r in results]


@pytest.mark.parametrize("mode", ["vector", "keyword", "hybrid"])
def test_each_mode_ranks_the_relevant_document_first(kb, mode):
    results = retrieve(tenant=kb.tenant, query=Q, dataset_ids=[kb.dataset.id], top_k=3, mode=mode)
    assert titles(results)[0] == "Throttling"
    assert all(0.0 <= r.score <= 1.0 for r in results)
    assert len(results) <= 3


def test_hybrid_orders_by_fusion_and_scores_by_similarity(kb):
    results = retrieve(
        tenant=kb.tenant, query=Q, dataset_ids=[kb.dataset.id], top_k=5, mode="hybrid"
    )
    rrf = [r.scores["rrf"] for r in results]
    assert rrf == sorted(rrf, reverse=True)
    assert results[0].score == pytest.approx(max(r.scores["vector"] for r in results), abs=1e-6)


def test_keyword_is_an_or_of_lexemes(kb):
    # No chunk holds every word: AND semantics would find nothing.
    results = retrieve(
        tenant=kb.tenant, query="anonymous zebra unicorn cursor", dataset_ids=[kb.dataset.id],
        top_k=5, mode="keyword",
    )  # fmt: skip
    assert set(titles(results)) == {"Throttling", "Pagination"}
    assert all(0 < r.score < 1 for r in results)


def test_score_threshold_filters(kb):
    results = retrieve(
        tenant=kb.tenant, query=Q, dataset_ids=[kb.dataset.id], top_k=5, mode="vector",
        score_threshold=0.5,
    )  # fmt: skip
    assert results
    assert all(r.score >= 0.5 for r in results)
    none = retrieve(
        tenant=kb.tenant, query="capital of Mongolia steppe", dataset_ids=[kb.dataset.id],
        top_k=5, mode="hybrid", score_threshold=0.5,
    )  # fmt: skip
    assert none == []


def test_only_documents_in_use(kb):
    """Ready documents, and those being re-ingested with a previous version (chunk_count set
    when it was made); never a first ingestion in progress nor a failed document, even if
    chunks were there (the pipeline writes none before ready: see test_reingest_answers)."""
    doc = kb.documents["Throttling"]
    cases = [
        (Document.Status.QUEUED, 2, True),
        (Document.Status.PROCESSING, 2, True),
        (Document.Status.PROCESSING, 0, False),
        (Document.Status.QUEUED, 0, False),
        (Document.Status.FAILED, 2, False),
        (Document.Status.READY, 2, True),
    ]
    for status, chunk_count, read in cases:
        Document.objects.filter(id=doc.id).update(status=status, chunk_count=chunk_count)
        for mode in ("vector", "keyword", "hybrid"):
            results = retrieve(
                tenant=kb.tenant, query=Q, dataset_ids=[kb.dataset.id], top_k=5, mode=mode
            )
            assert ("Throttling" in titles(results)) is read, (status, chunk_count, mode)


def test_scope_tags_and_datasets_restrict(kb, tenant):
    internal = DocumentFactory(dataset=kb.dataset, title="Internal", tags=["internal"])
    ChunkFactory(
        document=internal, index=0, text="Throttling internal note: anonymous clients get 5/day.",
        embedding=list(embed_cached("Throttling internal note: anonymous clients get 5/day.")),
    )  # fmt: skip
    public = ScopeFactory(tenant=tenant, document_tags=["public", "faq"])
    everything = retrieve(
        tenant=tenant, query=Q, dataset_ids=[kb.dataset.id], top_k=10, mode="hybrid"
    )
    assert "Internal" in titles(everything)
    for mode in ("vector", "keyword", "hybrid"):
        scoped = retrieve(
            tenant=tenant, query=Q, dataset_ids=[kb.dataset.id], scope=public, top_k=10, mode=mode
        )
        assert "Internal" not in titles(scoped)
    # A scope listing other datasets leaves nothing of this one.
    other = build_kb(tenant, slug="other-kb")
    narrow = ScopeFactory(tenant=tenant)
    narrow.datasets.set([other.dataset])
    assert (
        retrieve(tenant=tenant, query=Q, dataset_ids=[kb.dataset.id], scope=narrow, top_k=5) == []
    )


def test_scope_acl_in_chat_citations(client, kb, tenant, make_key, openai_stub):
    from conversations.tests.helpers import chat

    internal = DocumentFactory(dataset=kb.dataset, title="Internal", tags=["internal"])
    ChunkFactory(
        document=internal, index=0, text="Throttling internal note: anonymous clients get 5/day.",
        embedding=list(embed_cached("Throttling internal note: anonymous clients get 5/day.")),
    )  # fmt: skip
    for title in ("Throttling", "Pagination", "Authentication"):
        Document.objects.filter(id=kb.documents[title].id).update(tags=["public"])
        kb.documents[title].chunks.update(tags=["public"])
    public = ScopeFactory(tenant=tenant, slug="public", document_tags=["public"])
    key = make_key(tenant, scopes=[public])
    _, body = chat(client, key, bot="helper", message=Q, scope="public")
    assert body["citations"]
    assert "Internal" not in [c["document_title"] for c in body["citations"]]
    assert "internal note" not in str(openai_stub.chat_requests()[-1].body)


def test_exact_and_hnsw_plans_agree(kb):
    from datasets.retrieval import _Filter

    flt = _Filter(tenant_id=str(kb.tenant.id), dataset_ids=(str(kb.dataset.id),), tags=None)
    vec = embed_cached("Throttling > " + Q)
    exact = [r[0] for r in vector_search(flt, vec, 3, plan="exact")]
    hnsw = [r[0] for r in vector_search(flt, vec, 3, plan="hnsw")]
    assert exact == hnsw
    assert EXACT_SCAN_MAX_ROWS > 0


def test_an_hnsw_search_short_of_rows_falls_back_to_the_exact_scan(kb, monkeypatch):
    # The iterative scan stops after hnsw.max_scan_tuples entries (an index bloated with dead
    # entries): fewer rows than asked while the filter holds more must not go out silently.
    from datasets import retrieval
    from datasets.retrieval import _Filter

    real = retrieval._run

    def short_hnsw(statements):
        rows = real(statements)
        return [*rows[:-1], rows[-1][:1]] if "enable_sort" in statements[0][0] else rows

    monkeypatch.setattr(retrieval, "_run", short_hnsw)
    flt = _Filter(tenant_id=str(kb.tenant.id), dataset_ids=(str(kb.dataset.id),), tags=None)
    vec = embed_cached("Throttling > " + Q)
    exact = [r[0] for r in vector_search(flt, vec, 3, plan="exact")]
    assert len(exact) == 3
    assert [r[0] for r in vector_search(flt, vec, 3, plan="hnsw")] == exact
    assert len(vector_search(flt, vec, 3, plan="hnsw_default")) == 1  # the baseline stays raw


def test_query_embedding_is_cached_in_redis(kb):
    redis = get_redis()
    assert not list(redis.scan_iter("qemb:*"))
    retrieve(tenant=kb.tenant, query=Q, dataset_ids=[kb.dataset.id], top_k=3, mode="vector")
    keys = list(redis.scan_iter("qemb:*"))
    assert len(keys) == 1
    assert len(redis.get(keys[0])) == 384 * 4


def test_canary_never_crosses_tenants_over_1000_queries(tenant, other_tenant):
    """Tenant A holds a canary document; tenant B asks 1,000 queries aimed straight at it."""
    canary_text = f"Throttling secret: the canary is {CANARY} for anonymous clients per day."
    a = build_kb(tenant, slug="a-bot", docs={"Canary": [canary_text]})
    b = build_kb(other_tenant, slug="b-bot")
    canary_vec = np.array(embed_cached(f"Canary > {canary_text}"), dtype=np.float32)
    rng = random.Random(7)
    words = ["throttling", "canary", CANARY, "anonymous", "clients", "secret", "day", "limit"]
    # B also points at A's dataset id: the tenant filter must still win.
    datasets = [b.dataset.id, a.dataset.id]
    for i in range(1000):
        mode = ("vector", "keyword", "hybrid")[i % 3]
        query = " ".join(rng.sample(words, 4))
        noise = np.random.default_rng(i).standard_normal(384).astype(np.float32) * 0.01
        vec = canary_vec + noise
        vec /= np.linalg.norm(vec)
        results = retrieve(
            tenant=other_tenant, query=query, dataset_ids=datasets, top_k=10, mode=mode,
            query_vector=vec.tolist(),
        )  # fmt: skip
        for r in results:
            assert CANARY not in r.text
            assert str(r.dataset_id) == str(b.dataset.id)
    # And A does find it (the test would be vacuous otherwise).
    found = retrieve(
        tenant=tenant, query=CANARY, dataset_ids=[a.dataset.id], top_k=3, mode="keyword"
    )
    assert CANARY in found[0].text


# --------------------------------------------------------------------------- POST /v1/retrieve
def test_retrieve_api_by_bot_and_by_datasets(api, kb):
    res = api.post("/v1/retrieve", {"bot": "helper", "query": Q, "top_k": 2}, format="json")
    body = res.json()
    assert res.status_code == 200, body
    assert len(body["data"]) == 2
    first = body["data"][0]
    assert set(first) >= {"chunk_id", "document_id", "document_title", "text", "score", "metadata"}
    assert first["document_title"] == "Throttling"
    res = api.post(
        "/v1/retrieve",
        {"datasets": [str(kb.dataset.id)], "query": Q, "mode": "keyword"},
        format="json",
    )
    assert res.status_code == 200
    assert res.json()["data"][0]["document_title"] == "Throttling"


def test_retrieve_api_validation_and_permissions(api, client_for, kb, tenant):
    assert api.post("/v1/retrieve", {"query": Q}, format="json").status_code == 400
    assert api.post("/v1/retrieve", {"bot": "helper"}, format="json").status_code == 400
    res = api.post("/v1/retrieve", {"bot": "helper", "query": Q, "mode": "magic"}, format="json")
    assert res.status_code == 400
    reader = client_for(tenant, permissions=("read",))
    res = reader.post("/v1/retrieve", {"bot": "helper", "query": Q}, format="json")
    assert res.status_code == 403


def test_retrieve_api_cross_tenant(api, other_api, kb, other_tenant):
    theirs = build_kb(other_tenant, slug="theirs", docs={"Secret": [f"The {CANARY} is here."]})
    res = api.post("/v1/retrieve", {"bot": "theirs", "query": CANARY}, format="json")
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"
    res = api.post(
        "/v1/retrieve", {"datasets": [str(theirs.dataset.id)], "query": CANARY}, format="json"
    )
    assert res.status_code == 404
    res = api.post("/v1/retrieve", {"bot": str(theirs.bot.id), "query": CANARY}, format="json")
    assert res.status_code == 404
    # Their own key sees their canary; ours never does.
    res = other_api.post("/v1/retrieve", {"bot": "theirs", "query": CANARY}, format="json")
    assert CANARY in res.json()["data"][0]["text"]
    res = api.post("/v1/retrieve", {"bot": "helper", "query": CANARY}, format="json")
    assert all(CANARY not in r["text"] for r in res.json()["data"])


def test_query_vectors_go_binary_on_any_psycopg_connection(settings):
    """run_statements registers the QueryVector dumper on connections opened before the
    retrieval module was imported too (pool connections are); one round trip, with a
    transaction-local setting that does not outlive the call."""
    import psycopg
    from django.db import connection

    from datasets.retrieval import QueryVector, run_statements

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as raw:
        rows = run_statements(
            raw,
            [
                ("SELECT set_config('enable_sort', 'off', true)", []),
                (
                    "SELECT %s::vector <=> '[1,0,0]'::vector, current_setting('enable_sort')",
                    [QueryVector([0.0, 1.0, 0.0])],
                ),
            ],
        )
        assert rows[-1][0][0] == pytest.approx(1.0)
        assert rows[-1][0][1] == "off"
        assert raw.execute("SHOW enable_sort").fetchone()[0] == "on"


def test_hybrid_with_a_pending_embedding_returns_the_same_rows(kb):
    """A new question's embedding may still be computing when retrieval starts: the keyword
    search runs first and the keyword hits' similarities come with the vector search. Rows,
    similarities and the fused results equal those of the one-round-trip path."""
    import threading
    from concurrent.futures import Future

    from datasets.retrieval import _Filter, hybrid_search

    vec = embed_cached(Q)
    flt = _Filter(tenant_id=str(kb.tenant.id), dataset_ids=(str(kb.dataset.id),), tags=None)

    def pending() -> Future:
        future: Future = Future()
        threading.Timer(0.05, future.set_result, [vec]).start()
        return future

    at_once = hybrid_search(flt, Q, vec, 20)
    assert at_once[1]
    assert all(row[10] is not None for row in at_once[1])
    assert hybrid_search(flt, Q, pending(), 20) == at_once
    kwargs = dict(tenant=kb.tenant, query=Q, dataset_ids=[kb.dataset.id], top_k=5, mode="hybrid")
    assert retrieve(**kwargs, query_vector=pending()) == retrieve(**kwargs, query_vector=vec)
