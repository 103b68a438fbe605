"""POST /v1/auth/token refuses a user with no membership in an active tenant: every route a
staff token opens acts in one of the user's tenants (superusers' too), so such tokens were
issued and then refused everywhere with 401."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenants.models import Membership
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _sign_in(username: str, password: str = PASSWORD, **more):
    body = {"username": username, "password": password, **more}
    return APIClient().post("/v1/auth/token", body, format="json")


def _refused_for_no_tenant(res) -> str:
    assert res.status_code == 401, res.content
    assert res.json()["error"]["type"] == "authentication_failed"
    message = res.json()["error"]["message"]
    assert "no active tenant" in message
    return message


def test_a_user_without_a_membership_gets_no_token(tenant):
    user = UserFactory(username="nomad")
    message = _refused_for_no_tenant(_sign_in("nomad"))  # was 200, then 401 on every route
    assert "Ask an owner" in message
    # A wrong password says only that (the check comes after the password).
    wrong = _sign_in("nomad", "guess")
    assert wrong.status_code == 401
    assert "tenant" not in wrong.json()["error"]["message"]
    MembershipFactory(tenant=tenant, user=user, role="member")
    assert _sign_in("nomad").status_code == 200


def test_memberships_removed_or_tenant_suspended(tenant):
    user = UserFactory(username="olga")
    MembershipFactory(tenant=tenant, user=user, role="owner")
    assert _sign_in("olga").status_code == 200
    tenant.is_active = False
    tenant.save(update_fields=["is_active"])
    _refused_for_no_tenant(_sign_in("olga"))
    tenant.is_active = True
    tenant.save(update_fields=["is_active"])
    Membership.objects.filter(user=user).delete()
    _refused_for_no_tenant(_sign_in("olga"))


def test_a_superuser_without_a_tenant_is_pointed_to_the_admin(tenant):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert "/admin/" in _refused_for_no_tenant(_sign_in("root"))
    MembershipFactory(tenant=tenant, user=root, role="owner")
    res = _sign_in("root")
    assert res.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {res.json()['access']}")
    assert client.get("/v1/tenant").status_code == 200


def test_the_code_is_asked_before_the_tenant_is_checked(tenant):
    user = UserFactory(username="nomad")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    res = _sign_in("nomad")
    assert res.status_code == 401
    assert "send `otp`" in res.json()["error"]["message"]
