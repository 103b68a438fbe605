"""Revocation in the Django admin is final, as DELETE /v1/api-keys/{id} is.

The change form offered ``revoked_at`` as an editable field: a tenant admin could clear it and
bring back a key revoked after a leak (outside the max_api_keys quota, which counts keys as they
are created). It is read-only now; the admin revokes with the "Revoke" action.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke
from tenants.tests.admin_support import admin_url, staff_client

pytestmark = pytest.mark.django_db


def _form(key: APIKey, **overrides) -> dict:
    """The key's change form as a browser would post it, with ``overrides``."""
    data = {
        "name": key.name,
        "permissions": list(key.permissions),
        "rate_limit": key.rate_limit,
        "allowed_origins": ",".join(key.allowed_origins),
        "expires_at_0": "",
        "expires_at_1": "",
        "revoked_at_0": "",
        "revoked_at_1": "",
    }
    return {**data, **overrides}


def _works(raw: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/v1/bots").status_code == 200


def test_a_revoked_key_cannot_be_brought_back_in_the_admin(client, tenant):
    key, raw = api_key_create(tenant=tenant, name="leaked", permissions=["read"])
    api_key_revoke(tenant=tenant, key=key)
    admin = staff_client(client, {tenant: "owner"})
    res = admin.post(admin_url(key), _form(key, name="leaked (renamed)"))
    assert res.status_code == 302, res.content[:2000]
    key.refresh_from_db()
    assert key.name == "leaked (renamed)"  # the rest of the form still saves
    assert key.revoked_at is not None
    assert not _works(raw)


def test_the_revoke_action_revokes_at_once(client, tenant, other_tenant):
    key, raw = api_key_create(tenant=tenant, name="site", permissions=["read"])
    other, other_raw = api_key_create(tenant=other_tenant, name="theirs", permissions=["read"])
    assert _works(raw)  # (cached in this process: the action must forget it)
    admin = staff_client(client, {tenant: "owner"})
    res = admin.post(
        admin_url(key, "changelist"),
        {"action": "revoke_selected", "_selected_action": [str(key.pk), str(other.pk)]},
    )
    assert res.status_code == 302, res.content[:2000]
    key.refresh_from_db()
    other.refresh_from_db()
    assert key.revoked_at is not None
    assert not _works(raw)
    assert other.revoked_at is None  # another tenant's key is not this staff user's to revoke
    assert _works(other_raw)


def test_a_member_cannot_revoke_in_the_admin(client, tenant):
    key, raw = api_key_create(tenant=tenant, name="site", permissions=["read"])
    member = staff_client(client, {tenant: "member"}, username="viewer")
    member.post(
        admin_url(key, "changelist"),
        {"action": "revoke_selected", "_selected_action": [str(key.pk)]},
    )
    key.refresh_from_db()
    assert key.revoked_at is None
    assert _works(raw)
