"""Staff JWT: obtain, refresh with rotation, logout blacklist, roles, X-Tenant."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tenants.models import Membership, Tenant
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _login(username: str) -> dict:
    res = APIClient().post(
        "/v1/auth/token", {"username": username, "password": PASSWORD}, format="json"
    )
    assert res.status_code == 200, res.content
    return res.json()


def _as(access: str, tenant_slug: str | None = None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    if tenant_slug:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}", HTTP_X_TENANT=tenant_slug)
    return client


@pytest.fixture
def member(tenant):
    return MembershipFactory(tenant=tenant, user=UserFactory(username="mia"), role="member").user


@pytest.fixture
def owner(tenant):
    return MembershipFactory(tenant=tenant, user=UserFactory(username="olga"), role="owner").user


def test_obtain_refresh_rotates_and_logout_blacklists(owner):
    tokens = _login("olga")
    assert set(tokens) == {"access", "refresh"}
    assert _as(tokens["access"]).get("/v1/tenant").json()["slug"] == "acme"

    refreshed = APIClient().post(
        "/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["refresh"] != tokens["refresh"]  # rotated
    assert _as(new["access"]).get("/v1/bots").status_code == 200
    # The old refresh token was blacklisted by the rotation.
    reuse = APIClient().post(
        "/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
    )
    assert reuse.status_code == 401
    assert reuse.json()["error"]["type"] == "authentication_failed"

    out = APIClient().post("/v1/auth/logout", {"refresh": new["refresh"]}, format="json")
    assert out.status_code == 204
    after = APIClient().post("/v1/auth/token/refresh", {"refresh": new["refresh"]}, format="json")
    assert after.status_code == 401


def test_logout_ends_the_access_tokens_of_its_sign_in_only(owner):
    """Access tokens of the session logged out (also those issued after a rotation) are 401 at
    once; another sign-in of the same user keeps working. They lived until expiry before."""
    from tenants.auth import authenticate, context_still_valid

    laptop, phone = _login("olga"), _login("olga")
    rotated = (
        APIClient()
        .post("/v1/auth/token/refresh", {"refresh": laptop["refresh"]}, format="json")
        .json()
    )
    headers = {"authorization": f"Bearer {rotated['access']}"}
    streaming = authenticate(headers)  # what an open chat re-checks every few seconds
    assert context_still_valid(streaming)

    out = APIClient().post("/v1/auth/logout", {"refresh": rotated["refresh"]}, format="json")
    assert out.status_code == 204
    for access in (laptop["access"], rotated["access"]):
        res = _as(access).get("/v1/tenant")
        assert res.status_code == 401, res.content
        assert res.json()["error"]["type"] == "authentication_failed"
        assert "logged out" in res.json()["error"]["message"]
    assert not context_still_valid(streaming)
    assert _as(phone["access"]).get("/v1/tenant").status_code == 200
    assert (
        APIClient()
        .post("/v1/auth/token/refresh", {"refresh": phone["refresh"]}, format="json")
        .status_code
        == 200
    )


def test_wrong_password_and_bad_tokens_are_401(owner):
    res = APIClient().post(
        "/v1/auth/token", {"username": "olga", "password": "nope"}, format="json"
    )
    assert res.status_code == 401
    assert res.json()["error"]["type"] == "authentication_failed"
    assert _as("not.a.jwt").get("/v1/bots").status_code == 401
    missing = APIClient().post("/v1/auth/token", {"username": "olga"}, format="json")
    assert missing.status_code == 400
    assert missing.json()["error"]["type"] == "invalid_request"


def test_tokens_of_a_deleted_or_deactivated_user_are_401(owner, member):
    olga, mia = _login("olga"), _login("mia")
    owner.delete()
    member.is_active = False
    member.save()
    for tokens in (olga, mia):
        res = APIClient().post(
            "/v1/auth/token/refresh", {"refresh": tokens["refresh"]}, format="json"
        )
        assert res.status_code == 401, res.content  # a deleted user's was a 500
        assert res.json()["error"]["type"] == "authentication_failed"
        assert res["WWW-Authenticate"]
        assert _as(tokens["access"]).get("/v1/tenant").status_code == 401


@pytest.mark.parametrize("route", ["/v1/auth/token", "/v1/auth/token/refresh", "/v1/auth/logout"])
def test_auth_routes_take_json_only(owner, route):
    form = APIClient().post(
        route, "username=olga", content_type="application/x-www-form-urlencoded"
    )
    multipart = APIClient().post(route, {"username": "olga", "password": PASSWORD})
    for res in (form, multipart):
        assert res.status_code == 415, res.content  # a form login answered 200 with tokens
        assert res.json()["error"]["type"] == "unsupported_media_type"


def test_member_reads_and_chats_but_cannot_manage_keys_or_write(member):
    client = _as(_login("mia")["access"])
    assert client.get("/v1/bots").status_code == 200
    assert client.get("/v1/tenant").status_code == 200
    for method, url, body in (
        ("get", "/v1/api-keys", None),
        ("post", "/v1/api-keys", {"name": "x"}),
        ("post", "/v1/bots", {"name": "x"}),
        ("patch", "/v1/tenant", {"name": "x"}),
    ):
        res = getattr(client, method)(url, body, format="json")
        assert res.status_code == 403, (method, url)
        assert res.json()["error"]["type"] == "permission_denied"


def test_owner_manages_keys(owner):
    client = _as(_login("olga")["access"])
    res = client.post("/v1/api-keys", {"name": "ci", "permissions": ["read"]}, format="json")
    assert res.status_code == 201
    assert client.get("/v1/api-keys").json()["data"][0]["name"] == "ci"


def test_several_memberships_need_x_tenant(tenant, other_tenant):
    user = UserFactory(username="max")
    MembershipFactory(tenant=tenant, user=user, role="member")
    MembershipFactory(tenant=other_tenant, user=user, role="admin")
    access = _login("max")["access"]
    ambiguous = _as(access).get("/v1/tenant")
    assert ambiguous.status_code == 401
    assert "X-Tenant" in ambiguous.json()["error"]["message"]
    assert _as(access, "acme").get("/v1/tenant").json()["slug"] == "acme"
    assert _as(access, "globex").get("/v1/tenant").json()["slug"] == "globex"
    # The role is per tenant: member in acme, admin in globex.
    assert _as(access, "acme").get("/v1/api-keys").status_code == 403
    assert _as(access, "globex").get("/v1/api-keys").status_code == 200
    stranger = Tenant.objects.create(slug="initech", name="Initech")
    res = _as(access, stranger.slug).get("/v1/tenant")
    assert res.status_code == 401


def test_create_tenant_and_create_user_commands():
    out = StringIO()
    call_command("create_tenant", "umbrella", "--name", "Umbrella Corp", stdout=out)
    tenant = Tenant.objects.get(slug="umbrella")
    assert tenant.name == "Umbrella Corp"
    call_command(
        "create_user", "--tenant", "umbrella", "alice", "--role", "admin",
        "--password", PASSWORD, stdout=StringIO(),
    )  # fmt: skip
    assert Membership.objects.get(user__username="alice").role == "admin"
    client = _as(_login("alice")["access"])
    assert client.get("/v1/api-keys").status_code == 200
    call_command("create_user", "--tenant", "umbrella", "bob", "--no-input", stdout=StringIO())
    assert Membership.objects.get(user__username="bob").role == "member"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_tenant", "umbrella", stdout=StringIO())
    with pytest.raises(CommandError, match="No tenant"):
        call_command("create_user", "--tenant", "nope", "carol", "--no-input")


def test_a_users_rate_limit_is_counted_per_tenant(tenant, other_tenant):
    """A staff user of two tenants has each tenant's allowance in that tenant (one counter for
    both let a busy tenant exhaust the user's limit in the other)."""
    tenant.default_rate_limit = "3/m"
    tenant.save()
    other_tenant.default_rate_limit = "3/m"
    other_tenant.save()
    user = UserFactory(username="max")
    MembershipFactory(tenant=tenant, user=user, role="member")
    MembershipFactory(tenant=other_tenant, user=user, role="member")
    access = _login("max")["access"]
    acme, globex = _as(access, "acme"), _as(access, "globex")
    assert [acme.get("/v1/bots").status_code for _ in range(3)] == [200, 200, 200]
    assert acme.get("/v1/bots").status_code == 429
    assert globex.get("/v1/bots").status_code == 200  # was 429: acme's count


def test_sign_in_flood_is_429_naming_the_address_not_a_credential(owner):
    from tenants.apis import LOGIN_LIMIT

    limit = int(LOGIN_LIMIT.split("/")[0])
    client = APIClient()
    body = {"username": "olga", "password": "wrong"}
    codes = [  # (several usernames: each has its own limit of failures too)
        client.post("/v1/auth/token", {**body, "username": f"u{i}"}, format="json").status_code
        for i in range(limit)
    ]
    assert set(codes) == {401}
    res = client.post("/v1/auth/token", body, format="json")
    assert res.status_code == 429
    assert res.json()["error"]["type"] == "rate_limited"
    assert "sign-ins from this address" in res.json()["error"]["message"]
    assert res["Retry-After"]


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
def test_the_bearer_scheme_is_read_in_any_case(owner, scheme):
    """RFC 9110: the scheme is case-insensitive, as API keys and the chat routes read it; the
    REST routes answered 401 "send an API key" to a staff token under "bearer"."""
    access = _login("olga")["access"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {access}")
    res = client.get("/v1/tenant")
    assert res.status_code == 200, res.content
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {access} trailing")
    res = client.get("/v1/tenant")
    assert res.status_code == 401
    assert res.json()["error"]["type"] == "authentication_failed"


def _refresh(token: str):
    return APIClient().post("/v1/auth/token/refresh", {"refresh": token}, format="json")


def test_a_refresh_token_rotates_once_even_when_refreshes_race(owner, monkeypatch):
    """simplejwt checks the blacklist when it reads the token and blacklists it later, so
    parallel refreshes of one token each got a new pair (2 of 6 threads against the old code):
    a stolen token raced with the real one forked the sign-in. Here both requests pass the
    check, as racing ones do; only the one that blacklists the token goes on."""
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = _login("olga")["refresh"]
    monkeypatch.setattr(RefreshToken, "check_blacklist", lambda self: None)
    assert _refresh(refresh).status_code == 200
    second = _refresh(refresh)
    assert second.status_code == 401, second.content  # was 200 with a second pair
    assert second.json()["error"]["type"] == "authentication_failed"


def test_no_refresh_for_a_logged_out_session(owner):
    """A refresh token of the session that escaped the logout's blacklist (a fork as above)
    got a new pair, whose access tokens were then refused; the refresh itself is now a 401."""
    from rest_framework_simplejwt.tokens import RefreshToken

    tokens = _login("olga")
    sibling = RefreshToken(tokens["refresh"])
    sibling.set_jti()  # same session, another token
    out = APIClient().post("/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json")
    assert out.status_code == 204
    res = _refresh(str(sibling))
    assert res.status_code == 401, res.content  # was 200
    assert res.json()["error"]["type"] == "authentication_failed"


def test_a_password_change_ends_the_users_sign_ins(owner, member):
    """Refresh rotation renews a refresh token's lifetime, so a stolen one lived on
    indefinitely: changing the password (what one does after a leak) did not end it, where it
    ends the user's Django sessions."""
    from tenants.auth import authenticate, context_still_valid

    tokens, others = _login("olga"), _login("mia")
    streaming = authenticate({"authorization": f"Bearer {tokens['access']}"})
    assert context_still_valid(streaming)
    owner.set_password("a-new-horse-battery-staple")
    owner.save()

    res = _as(tokens["access"]).get("/v1/tenant")
    assert res.status_code == 401, res.content  # was 200
    assert "password was changed" in res.json()["error"]["message"]
    assert _refresh(tokens["refresh"]).status_code == 401  # was 200, with a new pair
    assert not context_still_valid(streaming)  # an open chat ends too
    assert _as(others["access"]).get("/v1/tenant").status_code == 200  # other users' stay
    fresh = APIClient().post(
        "/v1/auth/token",
        {"username": "olga", "password": "a-new-horse-battery-staple"},
        format="json",
    )
    assert _as(fresh.json()["access"]).get("/v1/tenant").status_code == 200


def test_a_token_from_before_the_password_stamp_gets_it_at_its_refresh(owner):
    from rest_framework_simplejwt.tokens import RefreshToken

    older = RefreshToken.for_user(owner)  # as signed before tokens carried the stamp
    older["sid"] = "0" * 32
    assert _as(str(older.access_token)).get("/v1/tenant").status_code == 200
    rotated = _refresh(str(older)).json()
    owner.set_password("a-new-horse-battery-staple")
    owner.save()
    assert _refresh(rotated["refresh"]).status_code == 401
    assert _as(rotated["access"]).get("/v1/tenant").status_code == 401
