"""GET /v1/openai/models (and /models/{id}) lists exactly the bots the credential may chat with
on /v1/openai/chat/completions: a key limited to certain bots sees those bots, a key limited to
certain scopes sees every active bot (it chats with any of them under one of its scopes, as
/v1/bots lists them), a key without `chat` lists none, another tenant's bots never."""

from __future__ import annotations

import pytest

from conversations.tests.conftest import build_kb
from conversations.tests.factories import ScopeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"


def _auth(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _models(client, key):
    res = client.get("/v1/openai/models", **_auth(key))
    assert res.status_code == 200, res.content
    return [m["id"] for m in res.json()["data"]]


def _chat(client, key, model, scope=None):
    body = {"model": model, "messages": [{"role": "user", "content": Q}]}
    if scope is not None:
        body["scope"] = scope
    res = client.post(
        "/v1/openai/chat/completions", body, content_type="application/json", **_auth(key)
    )
    return res.status_code


def test_models_are_the_bots_a_limited_key_may_chat_with(
    client, kb, make_key, other_tenant, openai_stub
):
    build_kb(other_tenant, slug="theirs")
    scope = ScopeFactory(tenant=kb.tenant, slug="public")
    other = build_kb(kb.tenant, slug="other", default_scope=scope).bot
    retired = build_kb(kb.tenant, slug="retired").bot
    retired.is_active = False
    retired.save()
    every = ["helper", "other"]

    by_scope = make_key(kb.tenant, scopes=[scope])
    assert _models(client, by_scope) == every
    assert [_chat(client, by_scope, m, scope="public") for m in every] == [200, 200]

    by_bot = make_key(kb.tenant, bots=[other, retired])
    assert _models(client, by_bot) == ["other"]
    assert _chat(client, by_bot, "other") == 200
    assert _chat(client, by_bot, "helper") == 404

    both = make_key(kb.tenant, bots=[kb.bot], scopes=[scope])
    assert _models(client, both) == ["helper"]
    assert _chat(client, both, "helper", scope="public") == 200
    assert _chat(client, both, "other", scope="public") == 404

    for key, listed in ((by_scope, every), (by_bot, ["other"]), (both, ["helper"])):
        for slug in ("helper", "other", "retired", "theirs"):
            res = client.get(f"/v1/openai/models/{slug}", **_auth(key))
            assert res.status_code == (200 if slug in listed else 404), (slug, res.content)
        # The same rule as /v1/bots (its active bots) for the same key.
        bots = client.get("/v1/bots", **_auth(key)).json()["data"]
        assert sorted(b["slug"] for b in bots if b["is_active"]) == listed


def test_a_key_without_chat_lists_no_models(client, kb, make_key):
    reader = make_key(kb.tenant, permissions=["read"])
    for path in ("/v1/openai/models", "/v1/openai/models/helper"):
        res = client.get(path, **_auth(reader))
        assert res.status_code == 403, res.content
        assert res.json()["error"]["type"] == "permission_denied"


def test_the_model_list_reads_the_bots_once_and_no_datasets(client, kb, make_key):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key = make_key(kb.tenant, bots=[kb.bot])
    assert _models(client, key) == ["helper"]  # (the key's context cached)
    with CaptureQueriesContext(connection) as seen:
        assert _models(client, key) == ["helper"]
    bot_reads = [q["sql"] for q in seen.captured_queries if '"bots_bot"' in q["sql"]]
    assert len(bot_reads) == 1, bot_reads
    assert not [q for q in seen.captured_queries if "datasets" in q["sql"]]


def test_head_is_answered_like_get_as_on_the_other_get_routes(client, kb, make_key):
    key = make_key(kb.tenant, ("chat", "read"))
    assert client.head("/v1/conversations", **_auth(key)).status_code == 200
    for path in ("/v1/openai/models", "/v1/openai/models/helper"):
        res = client.head(path, **_auth(key))
        assert res.status_code == 200, (path, res.content)  # was 405
        assert res.content == b""
    res = client.post("/v1/openai/models", **_auth(key))
    assert res.status_code == 405
    assert res["Allow"] == "GET, HEAD"
