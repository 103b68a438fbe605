"""Wrong one-time codes count against the per-username limit of failed sign-ins
(tenants/sign_in_limit.py), at POST /v1/auth/token and the admin's form: whoever had the
password could guess codes beyond it (only the per-address limit applied). Only a code that
was checked after the right password counts, once per attempt: a stranger without the password
cannot lock the account any faster than with wrong passwords."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
LIMIT = settings.SIGN_IN_FAILURES_PER_USERNAME


def _code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _wrong(device) -> str:
    return "000000" if _code(device) != "000000" else "111111"


def _token(address: str, **body):
    body = {"username": "olga", **body}
    return APIClient().post("/v1/auth/token", body, format="json", REMOTE_ADDR=address)


def _fresh(device) -> None:
    """django-otp's own wait after a wrong code over, and the next 30 s step (a code signs
    in once): as for guesses spread over the window."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None, last_t=-1
    )


@pytest.fixture
def device(tenant):
    user = UserFactory(username="olga", is_staff=True)
    MembershipFactory(tenant=tenant, user=user, role="owner")
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _assert_username_limit(res) -> None:
    assert res.status_code == 429, res.content
    error = res.json()["error"]
    assert error["type"] == "rate_limited"
    assert "failed sign-ins for this username" in error["message"]
    assert 1 <= int(res["Retry-After"]) <= settings.SIGN_IN_FAILURE_WINDOW_MINUTES * 60


def test_wrong_codes_with_the_password_count_per_username(device):
    assert LIMIT == 10
    for i in range(LIMIT):
        _fresh(device)
        res = _token(f"198.51.100.{i}", password=PASSWORD, otp=_wrong(device))
        assert res.status_code == 401
        assert "wrong or has expired" in res.json()["error"]["message"]
    _fresh(device)
    _assert_username_limit(_token("203.0.113.7", password=PASSWORD, otp=_code(device)))  # was 200


def test_fewer_wrong_codes_then_a_right_one_sign_in(device):
    for i in range(LIMIT - 1):
        _fresh(device)
        assert _token(f"198.51.100.{i}", password=PASSWORD, otp=_wrong(device)).status_code == 401
    for i in range(3):  # right ones do not count (and clear the count: test_sign_in_limit_reset)
        _fresh(device)
        assert _token(f"192.0.2.{i}", password=PASSWORD, otp=_code(device)).status_code == 200
    for i in range(LIMIT):
        _fresh(device)
        assert _token(f"198.51.100.{i}", password=PASSWORD, otp=_wrong(device)).status_code == 401
    _fresh(device)
    _assert_username_limit(_token("192.0.2.99", password=PASSWORD, otp=_code(device)))


def test_what_is_not_a_code_guess_does_not_count(device):
    # A wrong password with a code counts once (the code is not checked), like without one.
    for i in range(LIMIT - 1):
        res = _token(f"198.51.100.{i}", password=f"guess{i}", otp=_wrong(device))
        assert res.status_code == 401
    # The right password without a code: asked for, not counted.
    for i in range(2 * LIMIT):
        res = _token(f"192.0.2.{i}", password=PASSWORD)
        assert res.status_code == 401
        assert "signs in with a one-time code" in res.json()["error"]["message"]
    # Codes held back by django-otp after wrong ones: none is checked, not counted.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=8, throttling_failure_timestamp=timezone.now()
    )
    for i in range(2 * LIMIT):
        res = _token(f"192.0.2.{100 + i}", password=PASSWORD, otp=_wrong(device))
        assert res.status_code == 429
        assert "Too many wrong one-time codes" in res.json()["error"]["message"]
    _fresh(device)
    assert _token("203.0.113.7", password=PASSWORD, otp=_code(device)).status_code == 200


def test_the_admin_form_counts_wrong_codes_on_the_same_username(device):
    for i in range(LIMIT):
        _fresh(device)
        form = {"username": "olga", "password": PASSWORD, "otp_token": _wrong(device)}
        page = Client().post("/admin/login/", form, REMOTE_ADDR=f"198.51.100.{i}")
        assert page.status_code == 200
        assert b"Invalid token" in page.content
    _fresh(device)
    _assert_username_limit(_token("203.0.113.7", password=PASSWORD, otp=_code(device)))  # was 200
    form = {"username": "olga", "password": PASSWORD, "otp_token": _code(device)}
    refused = Client().post("/admin/login/", form, REMOTE_ADDR="203.0.113.8")
    assert refused.status_code == 429
    assert b"Too many failed sign-ins for this username" in refused.content
