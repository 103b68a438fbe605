"""Failed sign-ins count per username as well as per address (tenants/sign_in_limit.py):
password guesses spread over many addresses against one account were not slowed (the limit
was 20 a minute per address only)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
LIMIT = settings.SIGN_IN_FAILURES_PER_USERNAME


def _token(username: str, password: str, address: str):
    body = {"username": username, "password": password}
    return APIClient().post("/v1/auth/token", body, format="json", REMOTE_ADDR=address)


def _admin(username: str, password: str, address: str):
    body = {"username": username, "password": password}
    return Client().post("/admin/login/", body, REMOTE_ADDR=address)


@pytest.fixture
def olga(tenant):
    user = UserFactory(username="olga", is_staff=True)
    MembershipFactory(tenant=tenant, user=user, role="owner")
    return user


@pytest.fixture
def mia(tenant):
    return MembershipFactory(tenant=tenant, user=UserFactory(username="mia"), role="member").user


def test_guesses_from_many_addresses_against_one_username_are_refused(olga, mia):
    assert LIMIT == 10
    for i in range(LIMIT):
        assert _token("olga", f"guess{i}", f"198.51.100.{i}").status_code == 401
    refused = _token("olga", PASSWORD, "203.0.113.7")  # was 200: a new address each time
    assert refused.status_code == 429, refused.content
    error = refused.json()["error"]
    assert error["type"] == "rate_limited"
    assert "failed sign-ins for this username" in error["message"]
    assert 1 <= int(refused["Retry-After"]) <= settings.SIGN_IN_FAILURE_WINDOW_MINUTES * 60
    # Another account, from the guesser's addresses too, is not affected.
    assert _token("mia", PASSWORD, "198.51.100.1").status_code == 200
    # The admin's form counts on the same username (its password is not checked).
    form = _admin("olga", PASSWORD, "203.0.113.8")
    assert form.status_code == 429
    assert b"Too many failed sign-ins for this username" in form.content
    assert b"OTP" not in form.content
    assert int(form["Retry-After"]) >= 1


def test_a_username_no_account_has_counts_the_same(olga):
    for i in range(LIMIT):
        assert _token("ghost", f"guess{i}", f"198.51.100.{i}").status_code == 401
    assert _token("ghost", "x", "203.0.113.7").status_code == 429
    # Spelled as the admin form's username field reads it (stripped, NFKC), one count.
    for i in range(LIMIT):
        variant = ["olga", " olga ", "\uff4f\uff4c\uff47\uff41"][i % 3]
        assert _token(variant, f"guess{i}", f"198.51.100.{i}").status_code == 401
    assert _token("olga", PASSWORD, "203.0.113.7").status_code == 429


def test_right_passwords_do_not_count(olga):
    for i in range(LIMIT - 1):
        assert _token("olga", f"guess{i}", f"198.51.100.{i}").status_code == 401
    for i in range(3 * LIMIT):  # an office signing in all day is not slowed by its own count
        assert _token("olga", PASSWORD, f"192.0.2.{i}").status_code == 200
    # (and each sign-in clears the failures: test_sign_in_limit_reset)
    for i in range(LIMIT):
        assert _token("olga", f"guess{i}", f"198.51.100.{i}").status_code == 401
    assert _token("olga", PASSWORD, "192.0.2.200").status_code == 429


def test_admin_form_wrong_passwords_count_and_right_ones_do_not(olga):
    TOTPDevice.objects.create(user=olga, name="phone", confirmed=True)
    for i in range(2 * LIMIT):  # right password, no code: the form asks for it, not counted
        page = _admin("olga", PASSWORD, f"192.0.2.{i}")
        assert page.status_code == 200
        assert b"OTP" in page.content
    for i in range(LIMIT):
        page = _admin("olga", f"guess{i}", f"198.51.100.{i}")
        assert page.status_code == 200  # the form again, with its error
    refused = _admin("olga", PASSWORD, "203.0.113.9")
    assert refused.status_code == 429
    assert b"Too many failed sign-ins" in refused.content
    # One count for both doors.
    assert _token("olga", PASSWORD, "203.0.113.10").status_code == 429


def test_no_limit_when_set_to_zero(olga, settings):
    settings.SIGN_IN_FAILURES_PER_USERNAME = 0
    for i in range(LIMIT + 2):
        assert _token("olga", f"guess{i}", f"198.51.100.{i}").status_code == 401
    assert _token("olga", PASSWORD, "203.0.113.7").status_code == 200
