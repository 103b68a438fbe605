"""Signing in to the admin: password guesses are limited like POST /v1/auth/token's."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenants.apis import LOGIN_LIMIT
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
LIMIT = int(LOGIN_LIMIT.split("/")[0])


@pytest.fixture
def olga(tenant):
    user = UserFactory(username="olga", is_staff=True)
    MembershipFactory(tenant=tenant, user=user, role="owner")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def test_admin_login_guesses_count_against_the_sign_in_limit(client, olga):
    """The form checks the password before the code and says which was wrong ("Please enter
    your OTP token" for the right password): it was an unlimited password oracle beside the
    REST route's limit, and the password alone signs in to the REST API."""
    # (Over several usernames: one username has its own, lower limit of failures,
    # test_sign_in_username_limit.)
    guesses = [
        client.post("/admin/login/", {"username": f"olga{i}", "password": "guess"}).status_code
        for i in range(LIMIT)
    ]
    assert set(guesses) == {200}  # the form again, with its error
    refused = client.post(
        "/admin/login/", {"username": "olga", "password": "correct-horse-battery"}
    )
    assert refused.status_code == 429, refused.content[:300]
    assert b"OTP" not in refused.content  # the password was not checked
    assert b"Too many sign-in attempts" in refused.content
    assert int(refused["Retry-After"]) >= 1
    # One counter for both doors: the REST route is refused too, from the same address.
    res = APIClient().post(
        "/v1/auth/token", {"username": "olga", "password": "correct-horse-battery"}, format="json"
    )
    assert res.status_code == 429
    assert res.json()["error"]["type"] == "rate_limited"
    # Showing the form is not an attempt.
    assert client.get("/admin/login/").status_code == 200


def test_rest_sign_ins_count_against_the_admin_form(client, olga):
    for _ in range(LIMIT):
        APIClient().post("/v1/auth/token", {"username": "olga", "password": "x"}, format="json")
    res = client.post("/admin/login/", {"username": "olga", "password": "correct-horse-battery"})
    assert res.status_code == 429


def _playground_token(client) -> str:
    import json
    import re

    page = client.get("/playground/").content.decode()
    found = re.search(r'<script id="pg-session" type="application/json">(.*?)</script>', page)
    assert found, page[:500]
    return json.loads(found.group(1))["token"]


def test_signing_out_of_the_admin_ends_the_playgrounds_token(olga):
    """The playground's token of an admin session carried no session id: after signing out it
    kept working (writes included) until it expired, 15 minutes later."""
    from django.test import Client

    from tenants.tests.admin_support import admin_client

    laptop, phone = admin_client(Client(), olga), admin_client(Client(), olga)  # two sign-ins
    tokens = [_playground_token(laptop), _playground_token(laptop)]
    other = _playground_token(phone)
    for token in (*tokens, other):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api.get("/v1/tenant").status_code == 200

    assert laptop.post("/admin/logout/").status_code == 200
    for token in tokens:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        res = api.post("/v1/bots", {"name": "After", "slug": "after"}, format="json")
        assert res.status_code == 401, res.content  # was 201
        assert "logged out" in res.json()["error"]["message"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert api.get("/v1/tenant").status_code == 200  # the other sign-in is unaffected
    # Signing in again gives a working token.
    laptop = admin_client(Client(), olga)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {_playground_token(laptop)}")
    assert api.get("/v1/tenant").status_code == 200
