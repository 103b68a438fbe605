"""A staff sign-in ends JWT_SESSION_DAYS (30) after the password was given. Before, refresh
rotation renewed the refresh token's 7 days at every refresh, so a sign-in (or a stolen refresh
token used once a week) lasted for ever."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tenants.jwt_sessions import AUTH_TIME_CLAIM
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
DAY = 86_400


@pytest.fixture
def owner(tenant):
    return MembershipFactory(tenant=tenant, user=UserFactory(username="olga"), role="owner").user


def _login() -> dict:
    res = APIClient().post(
        "/v1/auth/token", {"username": "olga", "password": PASSWORD}, format="json"
    )
    assert res.status_code == 200, res.content
    return res.json()


def _refresh(raw: str):
    return APIClient().post("/v1/auth/token/refresh", {"refresh": raw}, format="json")


def _signed_in_ago(raw: str, days: float) -> str:
    """The same refresh token as if its sign-in had been ``days`` ago (re-signed here)."""
    token = RefreshToken(raw, verify=False)
    token[AUTH_TIME_CLAIM] = int(time.time() - days * DAY)
    return str(token)


def test_a_sign_in_is_refreshed_within_its_days_and_refused_after(owner):
    first = _login()
    claims = RefreshToken(first["refresh"])
    assert abs(claims[AUTH_TIME_CLAIM] - time.time()) < 60
    res = _refresh(_signed_in_ago(first["refresh"], 29.9))
    assert res.status_code == 200, res.content
    renewed = RefreshToken(res.json()["refresh"])
    # Its expiry does not pass the sign-in's end (in 0.1 day), though a refresh token lives 7.
    assert renewed["exp"] <= renewed[AUTH_TIME_CLAIM] + 30 * DAY
    assert renewed["exp"] - time.time() < 0.2 * DAY
    assert renewed[AUTH_TIME_CLAIM] == RefreshToken(res.json()["refresh"])[AUTH_TIME_CLAIM]

    again = _login()
    res = _refresh(_signed_in_ago(again["refresh"], 30.5))
    assert res.status_code == 401
    assert "sign in again" in res.json()["error"]["message"]


def test_no_limit_when_set_to_zero_and_old_tokens_start_counting(owner, settings):
    settings.JWT_SESSION_DAYS = 0
    res = _refresh(_signed_in_ago(_login()["refresh"], 400))
    assert res.status_code == 200, res.content
    settings.JWT_SESSION_DAYS = 30
    token = RefreshToken(_login()["refresh"], verify=False)
    del token[AUTH_TIME_CLAIM]  # a token from before the claim
    res = _refresh(str(token))
    assert res.status_code == 200, res.content
    assert abs(RefreshToken(res.json()["refresh"])[AUTH_TIME_CLAIM] - time.time()) < 60
