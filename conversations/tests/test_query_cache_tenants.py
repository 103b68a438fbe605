"""The question-embedding cache is per tenant (datasets/query_embeddings.py): a cached question
answers milliseconds sooner (a provider round trip sooner with OpenAI embeddings), so one cache
for the instance let a tenant time its own /v1/retrieve or chat to learn whether someone in
another tenant had asked a given question (27 of 30 single probes told apart here)."""

from __future__ import annotations

import uuid

import pytest

from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedded(monkeypatch):
    """The questions the embedder computed (not found in the cache)."""
    from datasets.embeddings import get_embedder

    embedder = get_embedder()
    real = embedder.embed_queries
    seen: list[str] = []

    def counting(texts):
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(embedder, "embed_queries", counting)
    return seen


def _retrieve(client, key: str, query: str) -> None:
    res = client.post(
        "/v1/retrieve", {"bot": "helper", "query": query}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert res.status_code == 200, res.content


def test_another_tenants_question_is_not_answered_from_the_cache(
    client, kb, other_tenant, make_key, embedded
):
    build_kb(other_tenant, slug="helper")
    theirs, mine = make_key(kb.tenant), make_key(other_tenant)
    question = f"Is employee {uuid.uuid4().hex[:8]} leaving next month?"
    _retrieve(client, theirs, question)
    _retrieve(client, theirs, question)  # their own second ask is a cache hit
    assert embedded == [question]
    _retrieve(client, mine, question)  # another tenant: computed again, as if never asked
    assert embedded == [question, question]

    chat_question = f"Who is on the layoff list {uuid.uuid4().hex[:8]}?"
    status, _ = chat(client, theirs, bot="helper", message=chat_question)
    assert status == 200
    status, _ = chat(client, mine, bot="helper", message=chat_question)
    assert status == 200
    assert embedded.count(chat_question) == 2


def test_cache_keys_name_the_tenant(client, kb, make_key):
    from chatbot_project.redis_client import get_redis

    _retrieve(client, make_key(kb.tenant), "How do I paginate?")
    keys = [k.decode() for k in get_redis().scan_iter("qemb:*")]
    assert keys
    assert all(k.startswith(f"qemb:{kb.tenant.id}:") for k in keys)
