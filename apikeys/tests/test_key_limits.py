"""A key limited to bots or scopes stays limited when they are deleted (to none, not to all)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from apikeys.models import APIKey
from apikeys.services import api_key_create
from bots.models import Bot, Scope
from bots.tests.factories import BotFactory, ScopeFactory
from tenants.auth import invalidate_key_cache, resolve_context

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _slugs(client: APIClient, route: str) -> list[str]:
    res = client.get(route)
    assert res.status_code == 200, res.content
    return [row["slug"] for row in res.json()["data"]]


def test_deleting_a_keys_only_scope_does_not_lift_its_scope_limit(tenant, api):
    guarded = ScopeFactory(tenant=tenant, slug="guarded", blocked_terms=["secret"])
    ScopeFactory(tenant=tenant, slug="open")
    bot = BotFactory(tenant=tenant, slug="helper", default_scope=guarded)
    _, raw = api_key_create(tenant=tenant, name="k", permissions=["read"], scopes=[guarded])
    key = _bearer(raw)
    assert _slugs(key, "/v1/scopes") == ["guarded"]

    # The bot's default first (a scope that is one is a 409: test_scope_default_delete.py).
    assert api.delete(f"/v1/scopes/{guarded.id}").status_code == 409
    cleared = api.patch(f"/v1/bots/{bot.id}", {"default_scope": None}, format="json")
    assert cleared.status_code == 200
    assert api.delete(f"/v1/scopes/{guarded.id}").status_code == 204
    invalidate_key_cache()  # as another process sees it once its cache entry ages

    assert _slugs(key, "/v1/scopes") == []  # was: every scope of the tenant
    context = resolve_context({"Authorization": f"Bearer {raw}"})
    assert context.allowed_scope_ids == frozenset()


def test_deleting_a_keys_only_bot_does_not_open_every_bot(tenant):
    only = BotFactory(tenant=tenant, slug="only")
    BotFactory(tenant=tenant, slug="other")
    _, raw = api_key_create(tenant=tenant, name="k", permissions=["read", "chat"], bots=[only])
    key = _bearer(raw)
    assert _slugs(key, "/v1/bots") == ["only"]

    Bot.objects.filter(pk=only.pk).delete()  # any way a bot goes (admin, shell, service)
    invalidate_key_cache()

    assert _slugs(key, "/v1/bots") == []  # was: every bot of the tenant
    assert key.get("/v1/openai/models").json()["data"] == []


def test_a_key_keeping_one_of_its_bots_or_scopes_keeps_exactly_those(tenant):
    bots = [BotFactory(tenant=tenant, slug=f"b{i}") for i in range(2)]
    scopes = [ScopeFactory(tenant=tenant, slug=f"s{i}") for i in range(2)]
    BotFactory(tenant=tenant, slug="unlisted")
    _, raw = api_key_create(tenant=tenant, name="k", permissions=["read"], bots=bots, scopes=scopes)
    Bot.objects.filter(pk=bots[0].pk).delete()
    Scope.objects.filter(pk=scopes[0].pk).delete()
    invalidate_key_cache()
    key = _bearer(raw)
    assert _slugs(key, "/v1/bots") == ["b1"]
    assert _slugs(key, "/v1/scopes") == ["s1"]


def test_unlimited_keys_stay_unlimited(tenant):
    BotFactory(tenant=tenant, slug="a")
    ScopeFactory(tenant=tenant, slug="s")
    row, raw = api_key_create(tenant=tenant, name="k", permissions=["read"])
    assert (row.limited_to_bots, row.limited_to_scopes) == (False, False)
    context = resolve_context({"Authorization": f"Bearer {raw}"})
    assert context.allowed_bot_ids is None
    assert context.allowed_scope_ids is None


def test_migration_marks_keys_that_list_bots_or_scopes_as_limited(tenant):
    bot, scope = BotFactory(tenant=tenant), ScopeFactory(tenant=tenant)
    with_bot, _ = api_key_create(tenant=tenant, name="b", bots=[bot])
    with_scope, _ = api_key_create(tenant=tenant, name="s", scopes=[scope])
    plain, _ = api_key_create(tenant=tenant, name="p")
    APIKey.objects.update(limited_to_bots=False, limited_to_scopes=False)  # as before 0002

    migration = importlib.import_module("apikeys.migrations.0002_key_limits_kept")
    migration.mark_limited_keys(apps, None)

    flags = {
        k.name: (k.limited_to_bots, k.limited_to_scopes)
        for k in APIKey.objects.filter(pk__in=[with_bot.pk, with_scope.pk, plain.pk])
    }
    assert flags == {"b": (True, False), "s": (False, True), "p": (False, False)}


def _key_form(key: APIKey, **overrides) -> dict:
    """The admin change form of ``key`` as stored, with ``overrides``."""
    data = {
        "tenant": str(key.tenant_id),
        "name": key.name,
        "permissions": list(key.permissions),
        "bots": [str(b.pk) for b in key.bots.all()],
        "scopes": [str(s.pk) for s in key.scopes.all()],
        "rate_limit": key.rate_limit,
        "allowed_origins": ",".join(key.allowed_origins),
        "expires_at_0": "",
        "expires_at_1": "",
        "revoked_at_0": "",
        "revoked_at_1": "",
    }
    for flag in ("limited_to_bots", "limited_to_scopes"):
        if getattr(key, flag):
            data[flag] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_edits_keep_the_limit_of_a_key_whose_bots_are_gone(client, tenant):
    from tenants.tests.admin_support import admin_client, admin_url
    from tenants.tests.factories import UserFactory

    root = admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    bot = BotFactory(tenant=tenant, slug="only")
    key, raw = api_key_create(tenant=tenant, name="k", permissions=["read"])
    BotFactory(tenant=tenant, slug="other")

    # Listing a bot in the admin limits the key to it.
    res = root.post(admin_url(key), _key_form(key, bots=[str(bot.pk)]))
    assert res.status_code == 302, res.context["adminform"].form.errors
    key.refresh_from_db()
    assert key.limited_to_bots
    assert _slugs(_bearer(raw), "/v1/bots") == ["only"]

    # Its bot deleted, an unrelated edit (the name) does not lift the limit.
    Bot.objects.filter(pk=bot.pk).delete()
    res = root.post(admin_url(key), _key_form(key, name="renamed"))
    assert res.status_code == 302, res.context["adminform"].form.errors
    key.refresh_from_db()
    assert (key.name, key.limited_to_bots) == ("renamed", True)
    assert _slugs(_bearer(raw), "/v1/bots") == []

    # Unticking the flag is how an operator opens the key to every bot.
    res = root.post(admin_url(key), _key_form(key, limited_to_bots=None))
    assert res.status_code == 302, res.context["adminform"].form.errors
    assert _slugs(_bearer(raw), "/v1/bots") == ["other"]


def test_a_restricted_admin_key_revokes_only_keys_within_its_restriction(tenant):
    """A key limited to one bot cannot revoke the tenant's unrestricted keys (it does not even
    see them: 404, test_limited_keys.py) nor keys with permissions it lacks (403); keys
    restricted within its bot it may revoke."""
    mine = BotFactory(tenant=tenant, slug="mine")
    other = BotFactory(tenant=tenant, slug="other")
    admin = ["admin", "read", "chat"]
    _, raw = api_key_create(tenant=tenant, name="limited", permissions=admin, bots=[mine])
    limited = _bearer(raw)
    unrestricted, _ = api_key_create(tenant=tenant, name="main", permissions=admin)
    elsewhere, _ = api_key_create(tenant=tenant, name="other", permissions=["chat"], bots=[other])
    writer, _ = api_key_create(tenant=tenant, name="writer", permissions=["write"], bots=[mine])
    within, _ = api_key_create(tenant=tenant, name="widget", permissions=["chat"], bots=[mine])

    for key, status in ((unrestricted, 404), (elsewhere, 404), (writer, 403)):
        res = limited.delete(f"/v1/api-keys/{key.id}")
        assert res.status_code == status, res.content
        key.refresh_from_db()
        assert key.revoked_at is None
    assert limited.delete(f"/v1/api-keys/{within.id}").status_code == 200
    within.refresh_from_db()
    assert within.revoked_at is not None


def test_an_unrestricted_admin_key_revokes_any_key(tenant, api):
    bot = BotFactory(tenant=tenant, slug="b")
    key, _ = api_key_create(tenant=tenant, name="w", permissions=["chat"], bots=[bot])
    assert api.delete(f"/v1/api-keys/{key.id}").status_code == 200


def test_a_key_limited_to_none_is_told_apart_from_an_unlimited_one(tenant, api):
    """Its listing says so: `bots: []` alone read as "every bot" once the key's bot was gone."""
    only = BotFactory(tenant=tenant, slug="gone")
    limited, _ = api_key_create(tenant=tenant, name="l", permissions=["chat"], bots=[only])
    free, _ = api_key_create(tenant=tenant, name="f", permissions=["chat"])
    Bot.objects.filter(pk=only.pk).delete()
    rows = {row["id"]: row for row in api.get("/v1/api-keys").json()["data"]}
    assert rows[str(limited.id)]["bots"] == rows[str(free.id)]["bots"] == []
    assert rows[str(limited.id)]["limited_to_bots"] is True
    assert rows[str(free.id)]["limited_to_bots"] is False
    assert rows[str(free.id)]["limited_to_scopes"] is False
