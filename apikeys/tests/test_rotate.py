"""Rolling an API key (POST /v1/api-keys/{id}/rotate, api_key_rotate, manage.py rotate_api_key):
a new key with the old one's settings, and the old one working a grace period, not forever."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys import keys
from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke, api_key_rotate
from audit.models import AuditEvent
from bots.tests.factories import BotFactory, ScopeFactory
from chatbot_project.errors import Conflict
from tenants import auth

pytestmark = pytest.mark.django_db


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _status(raw: str) -> int:
    return _client(raw).get("/v1/bots").status_code


def _key(tenant, **kw):
    kw.setdefault("name", "website")
    kw.setdefault("permissions", ["chat", "read"])
    return api_key_create(tenant=tenant, **kw)


def _rotate(client, key_id, body=None):
    return client.post(f"/v1/api-keys/{key_id}/rotate", body or {}, format="json")


def test_the_new_key_has_the_old_ones_settings(tenant, api):
    bot, scope = BotFactory(tenant=tenant), ScopeFactory(tenant=tenant)
    until = timezone.now() + timedelta(days=30)
    old, _ = _key(
        tenant, bots=[bot], scopes=[scope], rate_limit="60/m",
        allowed_origins=["https://a.example"], expires_at=until,
    )  # fmt: skip
    before = api.get(f"/v1/api-keys/{old.id}").json()
    res = _rotate(api, old.id)
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["key"].startswith(body["prefix"])
    assert body["id"] != str(old.id)
    assert body["rotated_from"] == str(old.id)
    for field in ("name", "permissions", "bots", "scopes", "rate_limit", "allowed_origins"):
        assert body[field] == before[field], field
    new = APIKey.objects.get(id=body["id"])
    assert new.expires_at == until
    assert new.limited_to_bots
    assert new.limited_to_scopes
    stored = APIKey.objects.get(id=old.id)  # default: one more hour
    assert stored.revoked_at is None
    assert abs((stored.expires_at - timezone.now()).total_seconds() - 3600) < 5
    assert body["previous_expires_at"] == api.get(f"/v1/api-keys/{old.id}").json()["expires_at"]


def test_the_old_key_works_until_its_new_expiry_then_401(tenant, settings):
    settings.API_KEY_CACHE_SECONDS = 60  # the cache must not outlive the new expiry
    old, old_raw = _key(tenant)
    assert _status(old_raw) == 200  # cached with no expiry
    _new, new_raw, old = api_key_rotate(tenant=tenant, key=old, previous_valid_for=2)
    assert _status(old_raw) == 200
    assert _status(new_raw) == 200
    time.sleep(2.2)
    assert _status(old_raw) == 401
    assert _status(new_raw) == 200


def test_another_process_cache_drops_the_old_key_as_for_a_revocation(tenant, settings):
    settings.API_KEY_CACHE_SECONDS = 1
    old, old_raw = _key(tenant)
    assert _status(old_raw) == 200
    other_process = dict(auth._cache)  # what another worker cached before the rotation
    api_key_rotate(tenant=tenant, key=old, previous_valid_for=1)
    auth._cache.update(other_process)
    time.sleep(1.2)  # past the TTL and the new expiry: its row is re-read (fingerprint)
    assert _status(old_raw) == 401


def test_at_once_revokes_the_old_key_and_a_sooner_expiry_is_kept(tenant, api):
    old, old_raw = _key(tenant)
    assert _status(old_raw) == 200
    res = _rotate(api, old.id, {"previous_valid_for": 0})
    assert res.status_code == 201, res.content
    assert APIKey.objects.get(id=old.id).revoked_at is not None
    assert _status(old_raw) == 401
    assert _status(res.json()["key"]) == 200

    soon = timezone.now() + timedelta(minutes=5)
    other, _ = _key(tenant, expires_at=soon)
    res = _rotate(api, other.id, {"previous_valid_for": 86400})
    assert res.status_code == 201
    assert APIKey.objects.get(id=other.id).expires_at == soon  # never extended
    assert APIKey.objects.get(id=res.json()["id"]).expires_at == soon


def test_an_admin_key_rotates_itself_and_gets_the_answer(tenant):
    me, raw = _key(tenant, permissions=["chat", "read", "write", "admin"])
    res = _rotate(_client(raw), me.id, {"previous_valid_for": 0})
    assert res.status_code == 201
    assert res.json()["key"]
    assert _status(raw) == 401
    assert _client(res.json()["key"]).get("/v1/api-keys").status_code == 200


def test_permission_and_tenancy(tenant, other_tenant, client_for, other_api):
    old, _ = _key(tenant)
    for perms in (["chat", "read"], ["chat", "read", "write"]):
        res = _rotate(client_for(tenant, perms), old.id)
        assert res.status_code == 403, res.content
    assert _rotate(other_api, old.id).status_code == 404  # another tenant's key
    assert _rotate(other_api, "00000000-0000-0000-0000-000000000000").status_code == 404
    # a credential limited to one bot does not rotate an unlimited key into a fresh one
    bot = BotFactory(tenant=tenant)
    limited = client_for(tenant, ["chat", "read", "admin"], bots=[bot])
    assert _rotate(limited, old.id).status_code == 404  # not even listed to it
    assert APIKey.objects.for_tenant(tenant).filter(rotated_from=old).count() == 0


@pytest.mark.parametrize(
    "body", [{"previous_valid_for": -1}, {"previous_valid_for": 7 * 86400 + 1},
             {"previous_valid_for": "soon"}, {"previous_valid_for": 1, "extra": 1}],
)  # fmt: skip
def test_bad_input_is_a_400_with_the_error_body(tenant, api, body):
    old, _ = _key(tenant)
    res = _rotate(api, old.id, body)
    assert res.status_code == 400, res.content
    assert res.json()["error"]["type"] == "invalid_request"
    assert APIKey.objects.get(id=old.id).expires_at is None


def test_a_revoked_or_expired_key_cannot_be_rotated(tenant, api):
    old, _ = _key(tenant)
    api_key_revoke(tenant=tenant, key=old)
    res = _rotate(api, old.id)
    assert res.status_code == 409
    assert res.json()["error"]["type"] == "conflict"
    assert "revoked" in res.json()["error"]["message"]
    gone, _ = _key(tenant)
    APIKey.objects.filter(id=gone.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict):
        api_key_rotate(tenant=tenant, key=gone, previous_valid_for=0)


def test_the_rotation_is_audited_with_both_ids_and_no_secret(tenant, api):
    old, old_raw = _key(tenant)
    res = _rotate(api, old.id, {"previous_valid_for": 60})
    new_raw = res.json()["key"]
    event = AuditEvent.objects.get(tenant=tenant, action="api_key.rotate")
    assert str(event.object_id) == str(old.id)
    assert event.changes["new_key_id"] == res.json()["id"]
    dumped = repr(list(AuditEvent.objects.filter(tenant=tenant).values()))
    assert new_raw not in dumped
    assert old_raw not in dumped
    assert keys.hash_key(new_raw) not in dumped


def _command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_rotates_by_key_prefix_or_id(tenant, other_tenant):
    old, _old_raw = _key(tenant, permissions=["chat"])
    out, _ = _command("--tenant", tenant.slug, f"{old.prefix}…", "--previous-valid-for", "2h")
    new_raw = out.strip().splitlines()[-1]
    assert f"Old key {old.prefix}… 'website' of tenant {tenant.slug}: works until" in out
    assert _status(new_raw) in (200, 403)
    assert keys.looks_valid(new_raw)
    new = APIKey.objects.get(prefix=keys.public_prefix(new_raw))
    assert new.rotated_from_id == old.id
    assert new.permissions == ["chat"]
    stored = APIKey.objects.get(id=old.id)
    assert abs((stored.expires_at - timezone.now()).total_seconds() - 7200) < 5

    out, _ = _command("--tenant", tenant.slug, new_raw, "--previous-valid-for", "0")
    assert "revoked now" in out
    with pytest.raises(CommandError, match="revoked"):
        _command("--tenant", tenant.slug, str(new.id))
    with pytest.raises(CommandError, match="No API key"):
        _command("--tenant", other_tenant.slug, str(old.id))
    with pytest.raises(CommandError, match="not a duration"):
        _command("--tenant", tenant.slug, str(old.id), "--previous-valid-for", "soon")
    with pytest.raises(CommandError, match="at most 7d"):
        _command("--tenant", tenant.slug, str(old.id), "--previous-valid-for", "8d")


def test_a_key_that_expires_rotates_only_keys_expiring_by_then(tenant):
    soon = timezone.now() + timedelta(days=1)
    me, raw = _key(tenant, permissions=["chat", "read", "admin"], expires_at=soon)
    forever, _ = _key(tenant)
    res = _rotate(_client(raw), forever.id)
    assert res.status_code == 403, res.content
    assert "expires before that key" in res.json()["error"]["message"]
    assert APIKey.objects.get(id=forever.id).expires_at is None
    res = _rotate(_client(raw), me.id, {"previous_valid_for": 60})
    assert res.status_code == 201
    assert APIKey.objects.get(id=res.json()["id"]).expires_at == soon


def test_rotation_at_the_key_quota_still_works(tenant, api):
    from tenants.models import Tenant

    old, _ = _key(tenant)
    count = APIKey.objects.for_tenant(tenant).count()
    Tenant.objects.filter(id=tenant.id).update(quotas={"max_api_keys": count})
    assert api.post("/v1/api-keys", {"name": "more"}, format="json").status_code == 409
    assert _rotate(api, old.id).status_code == 201


def test_the_admin_rotate_action(client, tenant, other_tenant):
    from django.contrib.messages import get_messages

    from tenants.tests.admin_support import admin_url, staff_client

    key, raw = _key(tenant)
    other, _ = _key(other_tenant)
    admin = staff_client(client, {tenant: "owner"})
    res = admin.post(
        admin_url(key, "changelist"),
        {"action": "rotate_selected", "_selected_action": [str(key.pk), str(other.pk)]},
    )
    assert res.status_code == 302, res.content[:2000]
    new = APIKey.objects.get(rotated_from=key)
    shown = " ".join(str(m) for m in get_messages(res.wsgi_request))
    new_raw = shown.split(f"{new.name} ({tenant.slug}): ")[1].split(";")[0].split()[0]
    assert keys.public_prefix(new_raw) == new.prefix
    assert _status(new_raw) == 200
    assert _status(raw) == 200  # for one more hour
    assert APIKey.objects.get(id=key.id).expires_at is not None
    assert not APIKey.objects.filter(rotated_from=other).exists()  # not this user's tenant


def test_a_key_already_rotated_is_a_409_naming_its_successor(tenant, api):
    """A retried rotation must not mint a second successor (which would inherit the grace
    period's end as its own expiry); once the successor is revoked, rotating again works."""
    old, _ = _key(tenant)
    first = _rotate(api, old.id).json()
    again = _rotate(api, old.id)
    assert again.status_code == 409, again.content
    assert again.json()["error"]["type"] == "conflict"
    assert first["prefix"] in again.json()["error"]["message"]
    assert APIKey.objects.filter(rotated_from_id=old.id).count() == 1
    api_key_revoke(tenant=tenant, key=APIKey.objects.get(id=first["id"]))
    retry = _rotate(api, old.id)
    assert retry.status_code == 201, retry.content
    assert APIKey.objects.get(id=retry.json()["id"]).expires_at is None
