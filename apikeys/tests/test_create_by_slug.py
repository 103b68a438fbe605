"""POST /v1/api-keys names bots and scopes by slug or id (as chats and create_api_key do),
resolved in the caller's tenant only; the answer lists ids. Another tenant's slug is unknown,
in the same 400 as an unknown id, and is never attached."""

from __future__ import annotations

import pytest

from apikeys.models import APIKey
from bots.tests.factories import BotFactory, ScopeFactory

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _create(client, **body):
    return client.post("/v1/api-keys", {"name": "website", **body}, format="json")


def test_bots_and_scopes_by_slug_or_id_answer_ids(api, tenant):
    support, sales = BotFactory(tenant=tenant, slug="support"), BotFactory(tenant=tenant)
    public = ScopeFactory(tenant=tenant, slug="public")
    res = _create(api, bots=["support", str(sales.id).upper(), str(support.id)], scopes=["public"])
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["bots"] == [str(support.id), str(sales.id)]  # named twice, listed once
    assert body["scopes"] == [str(public.id)]
    assert body["limited_to_bots"]
    assert body["limited_to_scopes"]
    row = APIKey.objects.get(id=body["id"])
    assert {b.id for b in row.bots.all()} == {support.id, sales.id}
    assert api.get(f"/v1/api-keys/{row.id}").json()["bots"] == body["bots"]


def test_another_tenants_slug_is_unknown_like_an_id_and_never_attached(api, tenant, other_tenant):
    BotFactory(tenant=tenant, slug="support")
    theirs = BotFactory(tenant=other_tenant, slug="shop")
    their_scope = ScopeFactory(tenant=other_tenant, slug="vip")
    before = APIKey.objects.count()
    by_id = _create(api, bots=[str(theirs.id)]).json()["error"]
    assert by_id == {
        "type": "invalid_request",
        "message": f"bots: no such id(s) in this tenant: {theirs.id}.",  # as before slugs
        "details": {"fields": {"bots": [f"Unknown id {theirs.id}."]}},
    }
    res = _create(api, bots=["support", "shop"])
    assert res.status_code == 400
    by_slug = res.json()["error"]
    assert by_slug == {
        "type": "invalid_request",
        "message": "bots: no such slug(s) or id(s) in this tenant: shop.",
        "details": {"fields": {"bots": ["Unknown slug 'shop'."]}},
    }
    res = _create(api, scopes=["vip", UNKNOWN_ID])
    assert res.status_code == 400
    assert res.json()["error"]["details"] == {
        "fields": {"scopes": ["Unknown slug 'vip'.", f"Unknown id {UNKNOWN_ID}."]}
    }
    assert APIKey.objects.count() == before
    assert not APIKey.bots.through.objects.filter(bot_id=theirs.id).exists()
    assert not APIKey.scopes.through.objects.filter(scope_id=their_scope.id).exists()


@pytest.mark.parametrize(
    "bots", [[""], ["x" * 65], [7], "support"], ids=["blank", "too-long", "number", "not-a-list"]
)
def test_malformed_references_are_a_400_on_the_field(api, tenant, bots):
    BotFactory(tenant=tenant, slug="support")
    res = _create(api, bots=bots)
    assert res.status_code == 400, res.content
    err = res.json()["error"]
    assert err["type"] == "invalid_request"
    assert "bots" in err["message"]
    assert not APIKey.objects.filter(name="website").exists()


def test_a_key_limited_to_bots_names_only_its_own_by_slug(tenant, client_for):
    mine, other = BotFactory(tenant=tenant, slug="mine"), BotFactory(tenant=tenant, slug="other")
    limited = client_for(tenant, ("chat", "read", "admin"), bots=[mine])
    assert _create(limited, bots=["other"]).status_code == 403
    res = _create(limited, bots=["mine"])
    assert res.status_code == 201, res.content
    assert res.json()["bots"] == [str(mine.id)]
    assert other.id not in {b.id for b in APIKey.objects.get(id=res.json()["id"]).bots.all()}


def test_the_schema_says_slug_or_id(api):
    from chatbot_project.testing.schema_check import published_schema

    schema = published_schema()
    ref = schema["paths"]["/v1/api-keys"]["post"]["requestBody"]["content"]["application/json"]
    name = ref["schema"]["$ref"].rsplit("/", 1)[-1]
    props = schema["components"]["schemas"][name]["properties"]
    for field in ("bots", "scopes"):
        assert "by slug or id" in props[field]["description"]
        assert "list their ids" in props[field]["description"]
