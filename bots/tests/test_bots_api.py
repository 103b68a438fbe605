"""/v1/bots and /v1/scopes: CRUD, validation, pagination, key restrictions, cross-tenant."""

from __future__ import annotations

import uuid

import pytest

from bots.models import Bot
from bots.tests.factories import BotFactory, ScopeFactory

pytestmark = pytest.mark.django_db


def _dataset(tenant, **kw):
    factories = pytest.importorskip("datasets.tests.factories")
    return factories.DatasetFactory(tenant=tenant, **kw)


def test_bot_crud_with_nested_retrieval_and_ids(api, tenant):
    ds = _dataset(tenant)
    scope = ScopeFactory(tenant=tenant)
    res = api.post(
        "/v1/bots",
        {"name": "Support Bot", "system_prompt": "Be brief.", "temperature": 0.5,
         "max_tokens": 300, "datasets": [str(ds.id)],
         "retrieval": {"top_k": 8, "score_threshold": 0.3, "mode": "vector"},
         "default_scope": str(scope.id)},
        format="json",
    )  # fmt: skip
    assert res.status_code == 201, res.content
    bot = res.json()
    assert bot["slug"] == "support-bot"
    assert bot["retrieval"] == {"top_k": 8, "score_threshold": 0.3, "mode": "vector"}
    assert bot["datasets"] == [str(ds.id)]
    assert bot["default_scope"] == str(scope.id)
    row = Bot.objects.get(id=bot["id"])
    assert (row.top_k, row.retrieval_mode) == (8, "vector")

    res = api.patch(
        f"/v1/bots/{bot['id']}",
        {"retrieval": {"mode": "keyword"}, "datasets": [], "default_scope": None},
        format="json",
    )
    assert res.status_code == 200
    patched = res.json()
    assert patched["retrieval"] == {"top_k": 8, "score_threshold": 0.3, "mode": "keyword"}
    assert patched["datasets"] == []
    assert patched["default_scope"] is None
    assert api.get(f"/v1/bots/{bot['id']}").json() == patched

    assert api.delete(f"/v1/bots/{bot['id']}").status_code == 204
    assert api.get(f"/v1/bots/{bot['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "name"),
        ({"name": "x", "temperature": 3}, "temperature"),
        ({"name": "x", "retrieval": {"mode": "magic"}}, "retrieval"),
        ({"name": "x", "retrieval": {"top_k": 0}}, "retrieval"),
        ({"name": "x", "slug": "Not A Slug"}, "slug"),
        ({"name": "x", "datasets": ["nope"]}, "datasets"),
        ({"name": "x", "datasets": [str(uuid.uuid4())]}, "datasets"),
        ({"name": "x", "default_scope": str(uuid.uuid4())}, "default_scope"),
        ({"name": "x", "max_tokens": 0}, "max_tokens"),
        ({"name": "x", "retreival": {}}, "retreival"),
    ],
)
def test_bot_validation_errors_name_the_field(api, body, where):
    res = api.post("/v1/bots", body, format="json")
    assert res.status_code == 400, res.content
    err = res.json()["error"]
    assert err["type"] == "invalid_request"
    assert where in err["message"]


def test_duplicate_slug_is_409_but_other_tenants_may_reuse_it(api, other_api):
    assert api.post("/v1/bots", {"name": "Helper"}, format="json").status_code == 201
    dup = api.post("/v1/bots", {"name": "Other", "slug": "helper"}, format="json")
    assert dup.status_code == 409
    assert dup.json()["error"]["type"] == "conflict"
    assert other_api.post("/v1/bots", {"name": "Helper"}, format="json").status_code == 201


def test_lists_paginate_with_cursor(api, tenant):
    for i in range(5):
        BotFactory(tenant=tenant, slug=f"b{i}")
    seen, cursor = [], None
    for _ in range(5):
        url = "/v1/bots?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url).json()
        assert len(page["data"]) <= 2
        seen += [b["slug"] for b in page["data"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(seen) == [f"b{i}" for i in range(5)]
    assert seen[0] == "b4"  # newest first
    assert api.get("/v1/bots?limit=500").status_code == 400
    assert api.get("/v1/bots?cursor=garbage").status_code == 400


def test_key_restricted_to_a_bot_sees_only_that_bot(tenant, client_for):
    mine, other = BotFactory(tenant=tenant), BotFactory(tenant=tenant)
    client = client_for(tenant, ("read", "write", "chat"), bots=[mine])
    listed = [b["id"] for b in client.get("/v1/bots").json()["data"]]
    assert listed == [str(mine.id)]
    assert client.get(f"/v1/bots/{mine.id}").status_code == 200
    hidden = client.get(f"/v1/bots/{other.id}")
    missing = client.get(f"/v1/bots/{uuid.uuid4()}")
    assert hidden.status_code == 404
    assert hidden.content == missing.content
    assert client.patch(f"/v1/bots/{other.id}", {"name": "x"}, format="json").status_code == 404
    assert client.delete(f"/v1/bots/{other.id}").status_code == 404


def test_key_restricted_to_a_bot_cannot_chat_with_another(tenant, client_for):
    mine, other = BotFactory(tenant=tenant), BotFactory(tenant=tenant)
    client = client_for(tenant, ("chat",), bots=[mine])
    res = client.post("/v1/chat", {"bot": other.slug, "message": "hi"}, format="json")
    assert res.status_code == 404, res.content
    res = client.post("/v1/chat", {"bot": str(other.id), "message": "hi"}, format="json")
    assert res.status_code == 404


def test_scope_crud_and_validation(api, tenant):
    ds = _dataset(tenant)
    res = api.post(
        "/v1/scopes",
        {"name": "Public", "datasets": [str(ds.id)], "document_tags": ["public"],
         "blocked_terms": ["salary"], "blocked_topics": ["politics"], "redact_terms": ["ACME-"],
         "refusal_message": "I can't discuss that.", "require_grounding": True,
         "max_input_chars": 500},
        format="json",
    )  # fmt: skip
    assert res.status_code == 201, res.content
    scope = res.json()
    assert scope["slug"] == "public"
    assert scope["datasets"] == [str(ds.id)]
    assert scope["require_grounding"] is True
    res = api.patch(f"/v1/scopes/{scope['id']}", {"max_input_chars": 0}, format="json")
    assert res.status_code == 400
    assert "max_input_chars" in res.json()["error"]["message"]
    res = api.patch(f"/v1/scopes/{scope['id']}", {"blocked_terms": []}, format="json")
    assert res.json()["blocked_terms"] == []
    assert [s["id"] for s in api.get("/v1/scopes").json()["data"]] == [scope["id"]]
    assert api.delete(f"/v1/scopes/{scope['id']}").status_code == 204


def test_key_restricted_to_scopes_sees_only_those(tenant, client_for):
    allowed, hidden = ScopeFactory(tenant=tenant), ScopeFactory(tenant=tenant)
    client = client_for(tenant, ("read",), scopes=[allowed])
    assert [s["id"] for s in client.get("/v1/scopes").json()["data"]] == [str(allowed.id)]
    assert client.get(f"/v1/scopes/{hidden.id}").status_code == 404


def test_other_tenant_sees_no_bots_or_scopes(api, other_api, tenant):
    bot, scope = BotFactory(tenant=tenant), ScopeFactory(tenant=tenant)
    assert other_api.get("/v1/bots").json()["data"] == []
    assert other_api.get("/v1/scopes").json()["data"] == []
    assert other_api.get(f"/v1/bots/{bot.id}").status_code == 404
    assert other_api.delete(f"/v1/scopes/{scope.id}").status_code == 404
    res = other_api.post("/v1/bots", {"name": "x", "default_scope": str(scope.id)}, format="json")
    assert res.status_code == 400


def test_oversized_body_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    res = api.post("/v1/bots", {"name": "x", "system_prompt": "y" * 20_000}, format="json")
    assert res.status_code == 413
    assert res.json()["error"]["type"] == "payload_too_large"


@pytest.mark.parametrize(
    "body",
    [
        {"name": 5},
        {"name": "x", "is_active": "true"},
        {"name": "x", "max_tokens": "300"},
        {"name": "x", "temperature": True},
        {"name": "x", "retrieval": {"top_k": 2.5}},
        {"name": "x", "system_prompt": ["a"]},
        {"name": "x", "default_scope": 5},  # was read as 00000000-0000-0000-0000-000000000005
        {"name": "x", "datasets": [1]},
        {"name": "x", "retrieval": 5},
        {"name": "x", "slug": "x", "id": "5b7c3c4e-8a43-4c0b-9a57-0d1b0e4b3b9a"},  # read-only
    ],
)
def test_json_types_are_not_coerced(api, body):
    res = api.post("/v1/bots", body, format="json")
    assert res.status_code == 400, res.content
    assert res.json()["error"]["type"] == "invalid_request"


def test_scope_list_items_must_be_strings(api):
    res = api.post("/v1/scopes", {"name": "x", "blocked_terms": [1]}, format="json")
    assert res.status_code == 400
    assert "blocked_terms" in res.json()["error"]["message"]


def test_nested_and_read_only_errors_name_the_field(api):
    res = api.post("/v1/bots", {"name": "x", "default_scope": 5}, format="json")
    assert res.json()["error"]["message"] == "default_scope: Must be a string."
    res = api.post("/v1/bots", {"name": "x", "retrieval": 5}, format="json")
    assert res.json()["error"]["message"] == "retrieval: Must be a JSON object."
    res = api.post("/v1/scopes", {"name": "x", "created_at": "2026-01-01"}, format="json")
    assert res.json()["error"]["message"] == "created_at: Read-only; it cannot be set."
    res = api.post("/v1/api-keys", {"name": "x", "prefix": "cb_mine"}, format="json")
    assert res.json()["error"]["message"] == "prefix: Read-only; it cannot be set."


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("post", "/v1/bots"),
        ("post", "/v1/scopes"),
        ("post", "/v1/api-keys"),
        ("patch", "/v1/tenant"),
    ],
)
@pytest.mark.parametrize("name", ["line\nbreak", "esc\x1b[31mape", "del\x7f", "c1\x85mid"])
def test_names_refuse_control_characters(api, method, route, name):
    res = getattr(api, method)(route, {"name": name}, format="json")
    assert res.status_code == 400, res.content  # was stored (the CLI refused the same names)
    assert res.json()["error"]["message"] == (
        "name: Use printable text only (no control characters)."
    )


@pytest.mark.parametrize(
    ("method", "route", "field"),
    [("post", "/v1/bots", "model"), ("patch", "/v1/tenant", "default_model")],
)
@pytest.mark.parametrize("model", ["gpt-4o\nX-Injected: 1", "esc\x1b[2Jape", "c1\x85mid"])
def test_model_names_refuse_control_characters(api, method, route, field, model):
    """A model name goes into every upstream request body and the logs: a newline or an escape
    sequence there was stored as given (the request then failed upstream on each chat)."""
    body = {field: model} if method == "patch" else {"name": "x", field: model}
    res = getattr(api, method)(route, body, format="json")
    assert res.status_code == 400, res.content
    assert res.json()["error"]["message"] == (
        f"{field}: Use printable text only (no control characters)."
    )


@pytest.mark.parametrize("route", ["/v1/bots", "/v1/scopes"])
@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "slug": "12345678-1234-5678-1234-567812345678"},
        {"name": "x", "slug": "deadbeefdeadbeefdeadbeefdeadbeef"},  # 32 hex digits: a UUID too
        {"name": "12345678-1234-5678-1234-567812345678"},  # the slug made from the name
    ],
)
def test_slugs_that_read_as_ids_are_refused(api, tenant, route, body):
    # A bot with such a slug was created, listed by /v1/openai/models, and then a 404 by that
    # slug everywhere (chat, the OpenAI route's model, ?bot=): a UUID is looked up as an id.
    res = api.post(route, body, format="json")
    assert res.status_code == 400, res.content
    err = res.json()["error"]
    assert err["message"].startswith("slug: A slug cannot have the form of an id")
    assert "slug" in err["details"]["fields"]
    created = api.post(route, {"name": "Plain"}, format="json").json()
    res = api.patch(f"{route}/{created['id']}", {"slug": body.get("slug", body["name"])},
                    format="json")  # fmt: skip
    assert res.status_code == 400, res.content
    assert api.get(f"{route}/{created['id']}").json()["slug"] == "plain"


def test_keys_limited_to_bots_or_scopes_cannot_create_them(tenant, client_for):
    # The new bot (scope) was outside the key's limit: a 201, then a 404 for the key that made it.
    bot, scope = BotFactory(tenant=tenant), ScopeFactory(tenant=tenant)
    by_bot = client_for(tenant, ("read", "write"), bots=[bot])
    by_scope = client_for(tenant, ("read", "write"), scopes=[scope])
    for client, route in ((by_bot, "/v1/bots"), (by_scope, "/v1/scopes")):
        res = client.post(route, {"name": "New one"}, format="json")
        assert res.status_code == 403, res.content
        assert res.json()["error"]["type"] == "permission_denied"
    assert Bot.objects.filter(tenant=tenant).count() == 1
    # Their other limits do not apply: a scope-limited key creates bots, a bot-limited one scopes.
    created = by_scope.post("/v1/bots", {"name": "Made"}, format="json")
    assert created.status_code == 201, created.content
    assert by_scope.get(f"/v1/bots/{created.json()['id']}").status_code == 200
    assert by_bot.post("/v1/scopes", {"name": "Made"}, format="json").status_code == 201
