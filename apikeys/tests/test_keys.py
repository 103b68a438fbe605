"""API keys: format, 401s, REST management, key never stored or logged, cache and revocation."""

from __future__ import annotations

import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys import keys
from apikeys.models import APIKey
from apikeys.services import api_key_create
from tenants.auth import resolve_context

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_key_format_has_prefix_checksum_and_enough_entropy():
    raw = keys.generate()
    assert raw.startswith("cb_")
    assert keys.looks_valid(raw)
    body = raw[3:-6]
    assert len(body) == 43  # 43 base62 chars > 256 bits
    typo = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert not keys.looks_valid(typo)


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_key_works_in_either_header(tenant, make_key, header):
    raw = make_key(tenant, ("read",))
    client = APIClient()
    value = f"Bearer {raw}" if header == "Authorization" else raw
    res = client.get("/v1/bots", headers={header: value})
    assert res.status_code == 200, res.content
    assert res["X-Request-ID"]


def test_revoked_expired_malformed_and_unknown_keys_get_401(tenant, make_key):
    revoked_row, revoked = api_key_create(tenant=tenant, name="r", permissions=["read"])
    revoked_row.revoked_at = timezone.now()
    revoked_row.save()
    _, expired = api_key_create(
        tenant=tenant, name="e", permissions=["read"],
        expires_at=timezone.now() - timedelta(seconds=1),
    )  # fmt: skip
    unknown = keys.generate()
    cases = {
        "revoked": revoked,
        "expired": expired,
        "malformed": "cb_not-a-key",
        "bad checksum": unknown[:-1] + ("A" if unknown[-1] != "A" else "B"),
        "unknown": unknown,
    }
    for label, raw in cases.items():
        res = _bearer(raw).get("/v1/bots")
        assert res.status_code == 401, label
        body = res.json()
        assert body["error"]["type"] == "authentication_failed", label
        assert body["error"]["message"].endswith("."), label
        assert res["WWW-Authenticate"].startswith("Bearer")
    anonymous = APIClient().get("/v1/bots")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_failed"


def test_key_of_inactive_tenant_is_refused(tenant, make_key):
    raw = make_key(tenant)
    tenant.is_active = False
    tenant.save()
    assert _bearer(raw).get("/v1/bots").status_code == 401


def test_revocation_over_the_api_takes_effect_at_once(api, tenant, make_key):
    raw = make_key(tenant, ("read",))
    victim = _bearer(raw)
    assert victim.get("/v1/bots").status_code == 200  # now cached in this process
    key_id = APIKey.objects.get(prefix=keys.public_prefix(raw)).id
    res = api.delete(f"/v1/api-keys/{key_id}")
    assert res.status_code == 200
    assert res.json()["revoked_at"] is not None
    assert victim.get("/v1/bots").status_code == 401
    # Listed still, as revoked.
    assert api.get(f"/v1/api-keys/{key_id}").json()["revoked_at"] is not None


def test_revocation_elsewhere_takes_effect_within_the_cache_time(tenant, make_key, settings):
    raw = make_key(tenant, ("read",))
    assert resolve_context({"X-API-Key": raw}) is not None
    # Another process revokes it (no in-process invalidation here).
    APIKey.objects.filter(prefix=keys.public_prefix(raw)).update(revoked_at=timezone.now())
    settings.API_KEY_CACHE_SECONDS = 0
    assert resolve_context({"X-API-Key": raw}) is None
    assert settings.API_KEY_CACHE_SECONDS <= 5


def test_last_used_at_is_recorded_without_a_write_per_request(tenant, make_key):
    raw = make_key(tenant, ("read",))
    client = _bearer(raw)
    client.get("/v1/bots")
    row = APIKey.objects.get(prefix=keys.public_prefix(raw))
    assert row.last_used_at is not None
    first = row.last_used_at
    client.get("/v1/bots")
    row.refresh_from_db()
    assert row.last_used_at == first


def test_create_list_get_revoke_over_rest(api, tenant):
    res = api.post(
        "/v1/api-keys",
        {"name": "widget", "permissions": ["chat"], "rate_limit": "30/m",
         "allowed_origins": ["https://shop.example.com/"]},
        format="json",
    )  # fmt: skip
    assert res.status_code == 201, res.content
    body = res.json()
    raw = body["key"]
    assert keys.looks_valid(raw)
    assert body["prefix"] == raw[:12]
    assert body["allowed_origins"] == ["https://shop.example.com"]
    assert body["rate_limit"] == "30/m"
    listed = api.get("/v1/api-keys").json()
    assert body["id"] in [k["id"] for k in listed["data"]]
    assert all("key" not in k for k in listed["data"])
    assert listed["next"] is None
    got = api.get(f"/v1/api-keys/{body['id']}").json()
    assert "key" not in got
    assert got["permissions"] == ["chat"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "permissions": ["root"]}, "permissions"),
        # A key that could do nothing (every route a 403); create_api_key refuses it too.
        ({"name": "x", "permissions": []}, "permissions"),
        ({"name": "x", "rate_limit": "lots"}, "rate_limit"),
        ({"name": "x", "rate_limit": "0/m"}, "rate_limit"),
        ({"name": "x", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "expires_at": "soon"}, "expires_at"),
        ({"name": "x", "allowed_origins": ["shop.example.com"]}, "allowed_origins"),
        ({"name": "x", "allowed_origins": ["https://"]}, "allowed_origins"),
        ({"name": "x", "allowed_origins": ["https://a.example/path"]}, "allowed_origins"),
        ({"name": "x", "allowed_origins": ["https://*.example.com"]}, "allowed_origins"),
        ({"name": "x", "allowed_origins": ["https://a.example:99999"]}, "allowed_origins"),
        ({"name": "x", "allowed_origins": ["javascript:alert(1)"]}, "allowed_origins"),
        ({"permissions": ["read"]}, "name"),
        ({"name": "x", "bots": ["00000000-0000-4000-8000-000000000000"]}, "bots"),
        ({"name": "x", "surprise": 1}, "surprise"),
    ],
)
def test_create_validation_is_400_with_the_field(api, body, field):
    res = api.post("/v1/api-keys", body, format="json")
    assert res.status_code == 400, res.content
    err = res.json()["error"]
    assert err["type"] == "invalid_request"
    assert field in err["message"]


def test_cannot_mint_a_key_stronger_than_your_own(tenant, client_for):
    admin_only = client_for(tenant, ("admin",))
    res = admin_only.post("/v1/api-keys", {"name": "x", "permissions": ["write"]}, format="json")
    assert res.status_code == 403
    assert "write" in res.json()["error"]["message"]


def test_keys_of_another_tenant_are_not_listed_or_reachable(api, other_api, tenant, make_key):
    make_key(tenant, ("read",), name="acme-only")
    data = other_api.get("/v1/api-keys").json()["data"]
    assert all(k["name"] != "acme-only" for k in data)
    row = APIKey.objects.for_tenant(tenant).first()
    assert other_api.get(f"/v1/api-keys/{row.id}").status_code == 404
    assert other_api.delete(f"/v1/api-keys/{row.id}").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_non_admin_keys_cannot_manage_keys(tenant, client_for):
    writer = client_for(tenant, ("chat", "read", "write"))
    assert writer.get("/v1/api-keys").status_code == 403
    assert writer.post("/v1/api-keys", {"name": "x"}, format="json").status_code == 403


# --------------------------------------------------------------------------- never stored
def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND (data_type IN ('text', 'character varying', "
            "'json', 'jsonb', 'character') OR data_type = 'ARRAY')"
        )
        return cur.fetchall()


def test_full_key_is_never_stored_or_logged(api, tenant, caplog):
    caplog.set_level(logging.DEBUG)
    res = api.post("/v1/api-keys", {"name": "grep me", "permissions": ["read"]}, format="json")
    raw = res.json()["key"]
    _bearer(raw).get("/v1/bots")  # used once, so last_used_at and the access log ran
    out = StringIO()
    call_command("create_api_key", "--tenant", tenant.slug, "--name", "cli", stdout=out)
    cli_raw = out.getvalue().strip().splitlines()[-1]
    columns = _text_columns()
    assert len(columns) > 20
    with connection.cursor() as cur:
        for secret in (raw, cli_raw):
            secret_part = secret[12:]  # everything past the stored public prefix
            for table, column in columns:
                cur.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s',
                    [f"%{secret_part}%"],
                )
                assert cur.fetchone()[0] == 0, f"{table}.{column} holds a full key"
    for secret in (raw, cli_raw):
        assert secret[12:] not in caplog.text
        for record in caplog.records:
            assert secret[12:] not in str(record.__dict__)


# --------------------------------------------------------------------------- commands
def test_create_api_key_command_prints_the_key_alone_on_the_last_line(tenant):
    from bots.tests.factories import BotFactory, ScopeFactory

    bot = BotFactory(tenant=tenant, slug="helper")
    scope = ScopeFactory(tenant=tenant, slug="public")
    out = StringIO()
    call_command(
        "create_api_key", "--tenant", "acme", "--name", "widget", "--permissions", "chat,read",
        "--bots", "helper", "--scopes", str(scope.id), "--rate-limit", "60/m",
        "--origins", "https://a.example,https://b.example", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    raw = out.getvalue().rstrip("\n").splitlines()[-1]
    assert keys.looks_valid(raw)
    ctx = resolve_context({"Authorization": f"Bearer {raw}"})
    assert ctx.tenant == tenant
    assert ctx.permissions == {"chat", "read"}
    assert ctx.allowed_bot_ids == {bot.id}
    assert ctx.allowed_scope_ids == {scope.id}
    assert ctx.rate_limit == "60/m"
    assert ctx.allowed_origins == ("https://a.example", "https://b.example")


def test_create_api_key_command_errors_are_sentences(tenant):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No tenant"):
        call_command("create_api_key", "--tenant", "nope", "--name", "x")
    with pytest.raises(CommandError, match="No bot"):
        call_command("create_api_key", "--tenant", "acme", "--name", "x", "--bots", "ghost")
    with pytest.raises(CommandError, match="Unknown permissions"):
        call_command("create_api_key", "--tenant", "acme", "--name", "x", "--permissions", "god")


def test_bodies_must_be_json(api):
    res = api.post("/v1/api-keys", {"name": "x"})  # multipart, as a browser form would send
    assert res.status_code == 415
    assert res.json()["error"]["type"] == "unsupported_media_type"
    res = api.generic(
        "PATCH", "/v1/tenant", "name=", content_type="application/x-www-form-urlencoded"
    )
    assert res.status_code == 415


def test_context_still_valid_sees_revocation_expiry_and_suspension(tenant, make_key):
    from tenants.auth import context_still_valid
    from tenants.services import tenant_deactivate
    from tenants.tests.factories import MembershipFactory, UserFactory

    ctx = resolve_context({"X-API-Key": make_key(tenant, ("chat",))})
    assert context_still_valid(ctx)
    APIKey.objects.filter(pk=ctx.api_key.pk).update(revoked_at=timezone.now())
    assert not context_still_valid(ctx)

    ctx = resolve_context({"X-API-Key": make_key(tenant, ("chat",))})
    APIKey.objects.filter(pk=ctx.api_key.pk).update(expires_at=timezone.now())
    assert not context_still_valid(ctx)

    ctx = resolve_context({"X-API-Key": make_key(tenant, ("chat",))})
    membership = MembershipFactory(tenant=tenant, user=UserFactory(), role="member")
    from tenants.context import AuthContext

    staff = AuthContext(tenant=tenant, permissions=frozenset({"read"}), user=membership.user)
    assert context_still_valid(staff)
    tenant_deactivate(tenant=tenant)
    assert not context_still_valid(ctx)
    assert not context_still_valid(staff)
