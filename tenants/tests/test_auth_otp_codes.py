"""The one-time code of POST /v1/auth/token: used once, also by sign-ins racing with it, and a
right code while django-otp holds the account back after wrong ones is told to wait, not that
it is wrong."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from tenants.tests.factories import MembershipFactory, UserFactory

PASSWORD = "correct-horse-battery"


def _sign_in(**body):
    return APIClient().post("/v1/auth/token", {"username": "olga", **body}, format="json")


def _code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def device(tenant):
    user = UserFactory(username="olga")
    MembershipFactory(tenant=tenant, user=user, role="owner")
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@pytest.mark.django_db(transaction=True)
def test_a_code_signs_in_once_even_when_two_sign_ins_race(device, monkeypatch):
    """Both requests read the device before either recorded the code as used (django-otp's
    ``last_t``): both got a token pair from one code. The devices are now read locked, so the
    second waits for the first (the meeting point below times out) and finds the code used."""
    code = _code(device)
    meet = threading.Barrier(2, timeout=2)
    verify = TOTPDevice.verify_token

    def verify_together(self, token):
        # Both requests hold the device as read, as racing ones do (a broken meeting: the
        # other request waits for this one's lock, so it never comes).
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait()
        return verify(self, token)

    monkeypatch.setattr(TOTPDevice, "verify_token", verify_together)
    answers: list[int] = []

    def sign_in():
        try:
            answers.append(_sign_in(password=PASSWORD, otp=code).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 401]  # was [200, 200]
    assert _sign_in(password=PASSWORD, otp=code).status_code != 200  # used, also afterwards


@pytest.mark.django_db
def test_a_right_code_while_held_back_is_told_when_to_retry(device):
    wrong = _sign_in(password=PASSWORD, otp="000000" if _code(device) != "000000" else "111111")
    assert wrong.status_code == 401
    assert "wrong or has expired" in wrong.json()["error"]["message"]
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # (the failure was kept, not rolled back)

    # django-otp waits 1, 2, 4, ... s after 1, 2, 3, ... wrong codes: as after five (16 s),
    # so that a slow test machine is still inside the wait.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=5)
    held = _sign_in(password=PASSWORD, otp=_code(device))
    assert held.status_code == 429, held.content  # was 401 "wrong or has expired"
    error = held.json()["error"]
    assert error["type"] == "rate_limited"
    assert "Too many wrong one-time codes" in error["message"]
    assert 1 <= int(held["Retry-After"]) <= 16
    assert f"for {held['Retry-After']} s" in error["message"]
    device.refresh_from_db()
    assert device.throttling_failure_count == 5  # waiting is not another failure

    device.throttle_reset()  # (the wait over)
    assert _sign_in(password=PASSWORD, otp=_code(device)).status_code == 200


@pytest.mark.django_db
def test_no_token_is_made_for_a_sign_in_that_fails_its_code(device):
    """simplejwt's pair serializer minted the refresh token (and its outstanding-token row)
    before the code was checked: each sign-in refused for its code left one behind."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    assert _sign_in(password=PASSWORD).status_code == 401  # no code
    assert _sign_in(password=PASSWORD, otp="abcdef").status_code == 401  # a wrong one
    assert OutstandingToken.objects.count() == 0  # was 2
    device.throttle_reset()
    assert _sign_in(password=PASSWORD, otp=_code(device)).status_code == 200
    assert OutstandingToken.objects.count() == 1


@pytest.mark.django_db
def test_signing_in_with_a_second_device_does_not_hold_the_first_back(device):
    """Each device was tried in turn, and each one before the right one recorded a failure:
    every sign-in with a second device (``otp_enroll --name``) held the first back twice as
    long (1, 2, 4 ... s; django-otp caps it at 100 years)."""
    backup = TOTPDevice.objects.create(user=device.user, name="backup", confirmed=True)
    for used in (backup, device):  # (whichever of the two is tried first)
        for _ in range(2):
            TOTPDevice.objects.filter(pk=used.pk).update(last_t=-1)  # (the next 30 s step)
            res = _sign_in(password=PASSWORD, otp=_code(used))
            assert res.status_code == 200, res.content  # was 429 for the first device
    for each in (device, backup):
        each.refresh_from_db()
        assert each.throttling_failure_count == 0  # the first device's was 2: held 2 s
    # A code of neither device still counts against both.
    wrong = "000000" if "000000" not in (_code(device), _code(backup)) else "111111"
    assert _sign_in(password=PASSWORD, otp=wrong).status_code == 401
    for each in (device, backup):
        each.refresh_from_db()
        assert each.throttling_failure_count == 1
