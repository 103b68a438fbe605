"""A key that expires cannot mint a key that outlives it. An admin key given out for a day (say,
to a contractor) created a key that never expires, with the same permissions: the one way for a
temporary credential to make itself permanent (a key never grants more than it holds:
permissions, bots and scopes were already checked, not time). Staff tokens and keys that never
expire create keys as before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import APIKey
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_an_expiring_key_cannot_create_a_key_that_outlives_it(tenant, make_key):
    until = timezone.now() + timedelta(days=1)
    temporary = _client(make_key(tenant, expires_at=until))
    before = APIKey.objects.count()
    for body in (
        {"name": "forever"},
        {"name": "forever", "expires_at": None},
        {"name": "later", "expires_at": _iso(until + timedelta(seconds=1))},
    ):
        res = temporary.post("/v1/api-keys", body, format="json")
        assert res.status_code == 403, (body, res.content)
        error = res.json()["error"]
        assert error["type"] == "permission_denied"
        assert "expires_at" in error["message"]
        assert _iso(until)[:19] in error["message"]  # says until when
    assert APIKey.objects.count() == before

    for expires in (until, until - timedelta(hours=1)):
        res = temporary.post(
            "/v1/api-keys", {"name": "ok", "expires_at": _iso(expires)}, format="json"
        )
        assert res.status_code == 201, res.content
        assert res.json()["expires_at"] is not None


def test_keys_that_never_expire_and_staff_tokens_create_any_key(tenant, api):
    res = api.post("/v1/api-keys", {"name": "forever"}, format="json")
    assert res.status_code == 201, res.content
    assert res.json()["expires_at"] is None

    MembershipFactory(tenant=tenant, user=UserFactory(username="olga"), role="admin")
    tokens = APIClient().post(
        "/v1/auth/token", {"username": "olga", "password": "correct-horse-battery"}, format="json"
    )
    staff = _client(tokens.json()["access"])
    assert staff.post("/v1/api-keys", {"name": "forever"}, format="json").status_code == 201
