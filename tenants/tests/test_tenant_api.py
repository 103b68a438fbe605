"""GET/PATCH /v1/tenant: read for any key, admin to change; never another tenant's settings."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_read_and_update_settings(api, tenant):
    assert api.get("/v1/tenant").json()["slug"] == "acme"
    res = api.patch(
        "/v1/tenant",
        {"name": "Acme Inc", "default_model": "gpt-4o-mini", "default_rate_limit": "30/m",
         "quotas": {"max_bots": 1000}},
        format="json",
    )  # fmt: skip
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["name"] == "Acme Inc"
    assert body["default_rate_limit"] == "30/m"
    assert body["quotas"] == {"max_bots": 1000}
    tenant.refresh_from_db()
    assert tenant.default_model == "gpt-4o-mini"
    # The new default applies to keys without their own limit straight away.
    assert api.get("/v1/bots")["X-RateLimit-Limit"] == "30"


def test_slug_and_unknown_fields_cannot_be_changed(api):
    res = api.patch("/v1/tenant", {"id": "x", "is_active": False}, format="json")
    assert res.status_code == 400
    assert "is_active" in res.json()["error"]["message"]


def test_bad_rate_limit_is_400(api):
    res = api.patch("/v1/tenant", {"default_rate_limit": "fast"}, format="json")
    assert res.status_code == 400
    assert res.json()["error"]["message"].startswith("default_rate_limit:")


def test_read_key_cannot_patch(tenant, client_for):
    reader = client_for(tenant, ("read",))
    assert reader.get("/v1/tenant").status_code == 200
    res = reader.patch("/v1/tenant", {"name": "x"}, format="json")
    assert res.status_code == 403


def test_each_key_sees_only_its_own_tenant(api, other_api, tenant, other_tenant):
    assert other_api.get("/v1/tenant").json()["id"] == str(other_tenant.id)
    other_api.patch("/v1/tenant", {"name": "Globex 2"}, format="json")
    tenant.refresh_from_db()
    assert tenant.name == "Acme"


def test_deactivated_tenant_is_locked_out_at_once(api, tenant):
    from tenants.services import tenant_deactivate

    assert api.get("/v1/bots").status_code == 200  # key context now cached
    tenant_deactivate(tenant=tenant)
    res = api.get("/v1/bots")
    assert res.status_code == 401
    assert res.json()["error"]["type"] == "authentication_failed"


@pytest.mark.parametrize("field", ["slug", "id", "created_at"])
def test_read_only_fields_are_refused_not_ignored(api, tenant, field):
    res = api.patch("/v1/tenant", {field: "zz", "name": "Renamed"}, format="json")
    assert res.status_code == 400, res.content  # was 200, the slug unchanged
    body = res.json()["error"]
    assert body["message"] == f"{field}: Read-only; it cannot be set."
    assert body["details"]["fields"] == {field: ["Read-only; it cannot be set."]}
    tenant.refresh_from_db()
    assert (tenant.slug, tenant.name) == ("acme", "Acme")


def test_a_key_restricted_to_some_bots_cannot_change_tenant_settings(tenant, client_for, api):
    """The default rate limit and quotas bind every key of the tenant: an admin key limited to
    one bot set "1/d" for all of them (200), as it may not create or revoke keys beyond its
    restriction."""
    from bots.tests.factories import BotFactory

    bot = BotFactory(tenant=tenant)
    limited = client_for(tenant, ("read", "admin"), bots=[bot])
    res = limited.patch("/v1/tenant", {"default_rate_limit": "1/d"}, format="json")
    assert res.status_code == 403, res.content
    assert res.json()["error"]["type"] == "permission_denied"
    res = limited.patch("/v1/tenant", {"quotas": {"max_api_keys": 0}}, format="json")
    assert res.status_code == 403, res.content
    tenant.refresh_from_db()
    assert (tenant.default_rate_limit, tenant.quotas) == ("", {})
    assert limited.get("/v1/tenant").status_code == 200  # reading stays allowed
    assert api.patch("/v1/tenant", {"name": "Acme 2"}, format="json").status_code == 200
