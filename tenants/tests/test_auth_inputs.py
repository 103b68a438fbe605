"""The staff token routes read their JSON as every other route does: a body that is not an
object, or a field that is not a string, is a 400 saying so. A number was quietly made a string
(``{"username": 5, ...}`` answered 401 "No active account", ``{"refresh": 5}`` 401
"invalid, expired or revoked"), and a list body read as ``{}`` ("username: This field is
required")."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
ROUTES = ("/v1/auth/token", "/v1/auth/token/refresh", "/v1/auth/logout")


@pytest.fixture
def owner(tenant):
    return MembershipFactory(tenant=tenant, user=UserFactory(username="olga"), role="owner").user


def _post(route: str, body):
    return APIClient().post(route, body, format="json")


def _refused(res, message: str) -> None:
    assert res.status_code == 400, res.content
    assert res.json()["error"]["type"] == "invalid_request"
    assert res.json()["error"]["message"] == message


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("body", [["olga", PASSWORD], "olga", 5])
def test_a_body_that_is_not_an_object_says_so(owner, route, body):
    _refused(_post(route, body), "Send a JSON object as the request body.")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": 5, "password": PASSWORD}, "username"),
        ({"username": "olga", "password": 12345678}, "password"),
        ({"username": "olga", "password": PASSWORD, "otp": 123456}, "otp"),
    ],
)
def test_sign_in_fields_must_be_strings(owner, body, field):
    res = _post("/v1/auth/token", body)
    _refused(res, f"{field}: Must be a string.")
    assert res.json()["error"]["details"] == {"fields": {field: ["Must be a string."]}}


@pytest.mark.parametrize("route", ROUTES[1:])
@pytest.mark.parametrize("value", [5, True, {"token": "x"}])
def test_a_refresh_token_must_be_a_string(owner, route, value):
    _refused(_post(route, {"refresh": value}), "refresh: Must be a string.")


def test_string_fields_still_sign_in_refresh_and_log_out(owner):
    tokens = _post("/v1/auth/token", {"username": "olga", "password": PASSWORD})
    assert tokens.status_code == 200, tokens.content
    refreshed = _post("/v1/auth/token/refresh", {"refresh": tokens.json()["refresh"]})
    assert refreshed.status_code == 200, refreshed.content
    assert _post("/v1/auth/logout", {"refresh": refreshed.json()["refresh"]}).status_code == 204
    wrong = _post("/v1/auth/token", {"username": "olga", "password": "nope"})
    assert wrong.status_code == 401
