"""A wrong password at POST /v1/auth/token is one clear sentence, the same whether the user
exists or not: it was simplejwt's "No active account found with the given credentials"."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
SENTENCE = "Wrong username or password, or the account is deactivated."


def _sign_in(username: str, password: str):
    return APIClient().post(
        "/v1/auth/token", {"username": username, "password": password}, format="json"
    )


def test_a_wrong_password_and_an_unknown_user_read_the_same(tenant):
    MembershipFactory(tenant=tenant, user=UserFactory(username="olga"), role="owner")
    wrong, unknown = _sign_in("olga", "guess"), _sign_in("nobody", "guess")
    for res in (wrong, unknown):
        assert res.status_code == 401
        assert res.json() == {"error": {"type": "authentication_failed", "message": SENTENCE}}


def test_a_deactivated_user_reads_the_same(tenant):
    user = UserFactory(username="gone", is_active=False)
    MembershipFactory(tenant=tenant, user=user, role="member")
    res = _sign_in("gone", "correct-horse-battery")
    assert res.status_code == 401
    assert res.json()["error"]["message"] == SENTENCE
