"""A refresh token used a second time ends its sign-in session (RFC 9700, 4.14.2).

Rotation makes each refresh token single-use. When a thief refreshed a stolen token first, the
rightful user's next refresh was a 401 and they signed in anew, while the thief's fork went on
for good (each rotation renews its lifetime). Logging out with the token one held was a 401 too,
and left the session signed in."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def owner(tenant):
    user = UserFactory(username="olga")
    MembershipFactory(tenant=tenant, user=user, role="owner")
    return user


def _post(route: str, body: dict):
    return APIClient().post(route, body, format="json")


def _sign_in() -> dict:
    res = _post("/v1/auth/token", {"username": "olga", "password": PASSWORD})
    assert res.status_code == 200, res.content
    return res.json()


def _refresh(token: str):
    return _post("/v1/auth/token/refresh", {"refresh": token})


def _reads(access: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/v1/tenant").status_code


def test_a_reused_refresh_token_ends_the_fork_that_went_on(owner):
    stolen = _sign_in()
    thief = _refresh(stolen["refresh"]).json()  # the thief refreshes first
    assert _reads(thief["access"]) == 200

    again = _refresh(stolen["refresh"])  # the rightful user's turn: the token is used up
    assert again.status_code == 401
    assert again.json()["error"]["type"] == "authentication_failed"
    assert _refresh(thief["refresh"]).status_code == 401  # was 200: the fork went on
    assert _reads(thief["access"]) == 401  # was 200 until it expired

    other = _sign_in()  # other sign-ins of the user are not affected
    assert _reads(other["access"]) == 200
    assert _refresh(other["refresh"]).status_code == 200


def test_logging_out_with_an_earlier_refresh_token_ends_the_session(owner):
    first = _sign_in()
    later = _refresh(first["refresh"]).json()
    out = _post("/v1/auth/logout", {"refresh": first["refresh"]})
    assert out.status_code == 204, out.content  # was 401, the session left signed in
    assert _reads(later["access"]) == 401
    assert _refresh(later["refresh"]).status_code == 401
    assert _post("/v1/auth/logout", {"refresh": later["refresh"]}).status_code == 204


def test_tokens_that_are_not_used_up_refreshed_or_logged_out_end_nothing(owner):
    from rest_framework_simplejwt.tokens import RefreshToken

    tokens = _sign_in()
    forged = RefreshToken(tokens["refresh"])  # a token of the session, signed with another key
    forged_text = forged.get_token_backend().encode({**forged.payload, "jti": "x" * 32})
    for route in ("/v1/auth/token/refresh", "/v1/auth/logout"):
        assert _post(route, {"refresh": tokens["access"]}).status_code == 401  # not a refresh
        assert _post(route, {"refresh": forged_text[:-2] + "AA"}).status_code == 401
    assert _reads(tokens["access"]) == 200
    assert _refresh(tokens["refresh"]).status_code == 200


def test_a_used_token_from_before_sessions_is_still_refused(owner):
    """Such a token has no session to end: logging out with it after its rotation stays a 401
    (a 204 would say that a sign-in ended which goes on)."""
    from rest_framework_simplejwt.tokens import RefreshToken

    older = RefreshToken.for_user(owner)  # no `sid`, as signed before sessions
    assert _refresh(str(older)).status_code == 200
    assert _post("/v1/auth/logout", {"refresh": str(older)}).status_code == 401
