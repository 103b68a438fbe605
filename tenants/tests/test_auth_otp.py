"""POST /v1/auth/token asks a user with a confirmed TOTP device for the current code (`otp`),
as the admin does: the password alone gave the same powers over REST (API keys, tenant
settings) that the admin guards with the code."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _sign_in(**body):
    return APIClient().post("/v1/auth/token", {"username": "olga", **body}, format="json")


@pytest.fixture
def owner(tenant):
    user = UserFactory(username="olga")
    MembershipFactory(tenant=tenant, user=user, role="owner")
    return user


def test_an_enrolled_user_needs_the_current_code(owner):
    device = TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    res = _sign_in(password=PASSWORD)
    assert res.status_code == 401, res.content  # was 200: the password alone
    assert res.json()["error"]["type"] == "authentication_failed"
    assert "send `otp`" in res.json()["error"]["message"]
    wrong = _sign_in(password=PASSWORD, otp="000000")
    assert wrong.status_code == 401
    assert "wrong or has expired" in wrong.json()["error"]["message"]
    # A wrong password says only that, code or not (no oracle for the code).
    assert "otp" not in _sign_in(password="nope", otp="123456").json()["error"]["message"]
    device.refresh_from_db()
    device.throttle_reset()  # (each wrong code makes the device wait 1, 2, 4... s: django-otp)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    res = _sign_in(password=PASSWORD, otp=f"{code:06d}")
    assert res.status_code == 200, res.content
    assert set(res.json()) == {"access", "refresh"}


def test_users_without_a_device_and_unconfirmed_devices_sign_in_with_the_password(owner):
    assert _sign_in(password=PASSWORD).status_code == 200
    TOTPDevice.objects.create(user=owner, name="half-done", confirmed=False)
    assert _sign_in(password=PASSWORD).status_code == 200


def test_unknown_fields_are_refused_as_on_every_route(owner):
    """`{"username", "password", "opt": ...}` (a typo of otp) answered 200 and ignored it."""
    res = _sign_in(password=PASSWORD, opt="123456")
    assert res.status_code == 400, res.content
    assert res.json()["error"]["message"].startswith("opt: Unknown field")
    refresh = APIClient().post("/v1/auth/token/refresh", {"refresh": "x", "extra": 1}, "json")
    assert refresh.status_code == 400
    assert refresh.json()["error"]["message"].startswith("extra: Unknown field")


@pytest.mark.parametrize("user_id", ["abc", [1], 10**30])
def test_a_signed_token_with_an_odd_user_id_is_a_401(owner, user_id):
    """Forging one needs the signing key; still a 401, not a 500 (found by the review)."""
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(owner)
    token["user_id"] = user_id
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    res = client.get("/v1/bots")
    assert res.status_code == 401, res.content
