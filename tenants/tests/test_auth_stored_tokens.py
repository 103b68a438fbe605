"""Refresh tokens are not stored whole: simplejwt's outstanding-token rows kept each one, so a
database backup or dump held every recent staff sign-in as a working credential."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _post(route: str, body: dict):
    return APIClient().post(route, body, format="json")


@pytest.fixture
def owner(tenant):
    user = UserFactory(username="olga")
    MembershipFactory(tenant=tenant, user=user, role="owner")
    return user


def test_a_refresh_token_read_from_the_database_is_no_credential(owner):
    tokens = _post("/v1/auth/token", {"username": "olga", "password": PASSWORD}).json()
    rotated = _post("/v1/auth/token/refresh", {"refresh": tokens["refresh"]}).json()
    rows = list(OutstandingToken.objects.filter(user=owner))
    assert len(rows) == 2  # the sign-in's and the rotation's: jti, user and expiry kept
    for row in rows:
        assert row.jti
        assert row.expires_at
        assert _post("/v1/auth/token/refresh", {"refresh": row.token}).status_code in (400, 401)
    assert [row.token for row in rows] == ["", ""]  # was each refresh token, working
    # Blacklisting (rotation, logout) works on the jti as before.
    assert BlacklistedToken.objects.filter(token__user=owner).count() == 1
    assert _post("/v1/auth/logout", {"refresh": rotated["refresh"]}).status_code == 204
    assert BlacklistedToken.objects.filter(token__user=owner).count() == 2
    assert _post("/v1/auth/token/refresh", {"refresh": rotated["refresh"]}).status_code == 401
