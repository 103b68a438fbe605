"""A scope that is a bot's default scope cannot be deleted on its own.

Deleting it used to clear the bot's ``default_scope``: every chat naming no scope (a widget's,
a key limited to the bot) then ran without that scope's blocked terms, redactions and dataset
limit, and nothing said so. Now the API answers 409 naming the bots, the admin lists them as
protected, and deleting the whole tenant still takes both."""

from __future__ import annotations

import pytest

from bots.models import Bot, Scope
from bots.tests.factories import BotFactory, ScopeFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_default_scope_is_a_conflict_naming_the_bots(api, tenant):
    scope = ScopeFactory(tenant=tenant)
    BotFactory(tenant=tenant, slug="widget", default_scope=scope)
    BotFactory(tenant=tenant, slug="helpdesk", default_scope=scope)
    res = api.delete(f"/v1/scopes/{scope.id}")
    assert res.status_code == 409, res.content
    error = res.json()["error"]
    assert error["type"] == "conflict"
    assert "'helpdesk', 'widget'" in error["message"]
    assert error["details"] == {"bots": ["helpdesk", "widget"]}
    assert Scope.objects.filter(pk=scope.pk).exists()
    assert set(Bot.objects.values_list("default_scope", flat=True)) == {scope.id}


def test_a_default_scope_goes_once_no_bot_uses_it(api, tenant):
    scope = ScopeFactory(tenant=tenant)
    bot = BotFactory(tenant=tenant, default_scope=scope)
    res = api.patch(f"/v1/bots/{bot.id}", {"default_scope": None}, format="json")
    assert res.status_code == 200, res.content
    assert api.delete(f"/v1/scopes/{scope.id}").status_code == 204
    assert not Scope.objects.filter(pk=scope.pk).exists()


def test_another_tenants_bot_does_not_hold_a_scope(api, tenant, other_tenant):
    scope = ScopeFactory(tenant=tenant)
    BotFactory(tenant=other_tenant)  # no link across tenants is possible; nothing to name
    assert api.delete(f"/v1/scopes/{scope.id}").status_code == 204


def test_deleting_the_tenant_takes_the_bot_and_its_default_scope(tenant):
    from tenants.services import tenant_delete

    scope = ScopeFactory(tenant=tenant)
    BotFactory(tenant=tenant, default_scope=scope)
    tenant_delete(tenant=tenant)
    assert not Scope.objects.filter(pk=scope.pk).exists()
    assert not Bot.objects.filter(tenant_id=tenant.id).exists()


def test_the_admin_lists_the_bots_that_protect_a_default_scope(client, tenant):
    from tenants.tests.admin_support import admin_client, admin_url
    from tenants.tests.factories import UserFactory

    root = admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    scope = ScopeFactory(tenant=tenant)
    BotFactory(tenant=tenant, slug="widget", default_scope=scope)
    url = admin_url(scope, "delete")
    page = root.get(url)
    assert page.status_code == 200
    assert b"widget" in page.content
    assert b"protected" in page.content
    root.post(url, {"post": "yes"})
    assert Scope.objects.filter(pk=scope.pk).exists()


def test_a_scope_limited_key_moves_a_default_scope_only_within_its_scopes(api, tenant, client_for):
    # Clearing a bot's default, or swapping another scope out of it, would change the
    # guardrails of every chat naming no scope (a widget's) beyond the key's own limit.
    mine, also_mine, strict = (ScopeFactory(tenant=tenant) for _ in range(3))
    limited = client_for(tenant, ("read", "write"), scopes=[mine, also_mine])
    bot = BotFactory(tenant=tenant, default_scope=mine)

    def patch(client, value):
        url = f"/v1/bots/{bot.id}"
        return client.patch(url, {"default_scope": value}, format="json").status_code

    assert patch(limited, None) == 403
    assert patch(limited, str(strict.id)) == 403
    assert patch(limited, str(also_mine.id)) == 200
    assert (
        limited.patch(f"/v1/bots/{bot.id}", {"name": "Renamed"}, format="json").status_code == 200
    )
    assert patch(api, str(strict.id)) == 200  # a key without the limit may
    assert patch(limited, str(mine.id)) == 403  # strict is not the key's to swap out
    assert patch(api, None) == 200
    assert patch(limited, str(mine.id)) == 200  # from none: only narrows what chats may do
    bot.refresh_from_db()
    assert bot.default_scope_id == mine.id

    created = limited.post(
        "/v1/bots", {"name": "b2", "default_scope": str(strict.id)}, format="json"
    )
    assert created.status_code == 403
    error = created.json()["error"]
    assert (error["type"], "limited to certain scopes" in error["message"]) == (
        "permission_denied", True,
    )  # fmt: skip
    ok = limited.post("/v1/bots", {"name": "b3", "default_scope": str(mine.id)}, format="json")
    assert ok.status_code == 201, ok.content
