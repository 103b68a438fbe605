"""A complete sign-in clears its username's count of failed sign-ins (tenants/sign_in_limit.py):
9 wrong passwords, the owner's sign-in, then 2 typos locked the account (429) its owner had
just signed in to. Only a complete one (a token or an admin session issued): wrong passwords,
the right one without its code or with a wrong code, or without a tenant, clear nothing. And
guesses in flight when it clears still count."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenants import sign_in_limit
from tenants.tests.factories import MembershipFactory, UserFactory
from tenants.tests.test_sign_in_code_limit import _code, _fresh, _wrong

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
LIMIT = settings.SIGN_IN_FAILURES_PER_USERNAME


def _token(address: str, username: str = "olga", **body):
    body = {"username": username, **body}
    return APIClient().post("/v1/auth/token", body, format="json", REMOTE_ADDR=address)


def _admin(address: str, **form):
    return Client().post("/admin/login/", {"username": "olga", **form}, REMOTE_ADDR=address)


def _fail(n: int, at: str = "198.51.100") -> None:
    for i in range(n):
        assert _token(f"{at}.{i}", password=f"guess{i}").status_code == 401


def _assert_locked(res) -> None:
    assert res.status_code == 429, res.content
    assert "failed sign-ins for this username" in res.json()["error"]["message"]


@pytest.fixture
def olga(tenant):
    user = UserFactory(username="olga", is_staff=True)
    MembershipFactory(tenant=tenant, user=user, role="owner")
    return user


@pytest.fixture
def device(olga):
    return TOTPDevice.objects.create(user=olga, name="phone", confirmed=True)


def test_a_token_issued_clears_the_failures(olga):
    assert LIMIT == 10
    _fail(LIMIT - 1)
    assert _token("192.0.2.1", password=PASSWORD).status_code == 200
    _fail(2, at="198.51.100.1")  # typos after signing in
    assert _token("192.0.2.2", password=PASSWORD).status_code == 200  # was 429
    # The limit still holds from there: a whole window's worth of failures locks it.
    _fail(LIMIT)
    _assert_locked(_token("192.0.2.3", password=PASSWORD))


def test_the_right_password_and_code_clear_the_failures(device):
    _fail(LIMIT - 1)
    _fresh(device)
    assert _token("192.0.2.1", password=PASSWORD, otp=_code(device)).status_code == 200
    _fail(2, at="198.51.100.1")
    _fresh(device)
    assert _token("192.0.2.2", password=PASSWORD, otp=_code(device)).status_code == 200  # was 429


def test_the_right_password_alone_or_with_a_wrong_code_clears_nothing(device):
    _fail(LIMIT - 2)
    for i in range(3):  # the code asked for: not counted, not cleared
        assert _token(f"192.0.2.{i}", password=PASSWORD).status_code == 401
    _fresh(device)
    assert _token("192.0.2.9", password=PASSWORD, otp=_wrong(device)).status_code == 401  # 9th
    _fail(1, at="198.51.100.1")  # the 10th
    _fresh(device)
    _assert_locked(_token("192.0.2.10", password=PASSWORD, otp=_code(device)))


def test_a_locked_account_is_not_cleared_by_its_password(olga):
    _fail(LIMIT)
    for i in range(3):
        _assert_locked(_token(f"192.0.2.{i}", password=PASSWORD))


def test_no_token_for_want_of_a_tenant_clears_nothing(tenant):
    UserFactory(username="loner", is_staff=True)  # no membership: refused after the password
    for i in range(LIMIT - 1):
        assert _token(f"198.51.100.{i}", "loner", password=f"guess{i}").status_code == 401
    res = _token("192.0.2.1", "loner", password=PASSWORD)
    assert res.status_code == 401
    assert "no active tenant" in res.json()["error"]["message"]
    assert _token("198.51.100.99", "loner", password="guess").status_code == 401  # the 10th
    _assert_locked(_token("192.0.2.2", "loner", password=PASSWORD))


def test_the_forms_right_password_without_or_with_a_wrong_code_clears_nothing(device):
    _fail(LIMIT - 1)
    for i in range(2):  # the right password without the code, then with a wrong one (the 10th)
        _fresh(device)
        code = {"otp_token": _wrong(device)} if i else {}
        assert _admin(f"192.0.2.{i}", password=PASSWORD, **code).status_code == 200
    _fresh(device)
    _assert_locked(_token("192.0.2.5", password=PASSWORD, otp=_code(device)))


def test_a_session_issued_by_the_form_clears_the_count(device):
    _fail(LIMIT - 1)
    _fresh(device)
    res = _admin("192.0.2.1", password=PASSWORD, otp_token=_code(device))
    assert res.status_code == 302, res.content[:500]
    for i in range(2):
        assert _admin(f"198.51.100.{60 + i}", password=f"typo{i}").status_code == 200
    _fresh(device)
    assert _token("192.0.2.2", password=PASSWORD, otp=_code(device)).status_code == 200  # was 429
    _fresh(device)
    form = {"password": PASSWORD, "otp_token": _code(device)}
    assert _admin("192.0.2.3", **form).status_code == 302


def test_guesses_in_flight_when_it_clears_still_count(olga):
    """The owner signs in while 3 guesses are being checked: clearing forgets the 5 settled
    failures, not the 3 in flight (2 then fail, 1 was the owner elsewhere): 2 remain, so only 8
    more guesses are let through, as if those in flight had finished first."""
    for _ in range(5):
        sign_in_limit.take("olga").failed()
    in_flight = [sign_in_limit.take("olga") for _ in range(3)]
    owner = sign_in_limit.take("olga")
    assert not owner.refused
    owner.succeeded()
    in_flight[0].failed()
    in_flight[1].failed()
    in_flight[2].give_back()
    for _ in range(LIMIT - 2):
        guess = sign_in_limit.take("olga")
        assert not guess.refused
        guess.failed()
    assert sign_in_limit.take("olga").refused
    _assert_locked(_token("192.0.2.1", password=PASSWORD))


def test_settling_twice_changes_nothing(olga):
    _fail(LIMIT - 1)
    attempt = sign_in_limit.take("olga")
    attempt.failed()  # the 10th
    attempt.succeeded()
    attempt.give_back()
    _assert_locked(_token("192.0.2.1", password=PASSWORD))
