"""The admin's sign-in takes user name, password and code in one go for a user with one TOTP
device (what `otp_enroll` gives). django-otp 1.7 asks to pick the device first: the README's
"log in with the 6-digit code" answered "Please select a device.", showed a device list, and
the code had to be typed again (two sign-in attempts of the 20 a minute for every login).
With several devices the choice is still asked for, as django-otp does."""

from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenants.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _sign_in(client, device: TOTPDevice, **extra: str):
    form = {"username": "staffer", "password": "correct-horse-battery", "otp_token": _code(device)}
    return client.post("/admin/login/?next=/admin/", {**form, **extra})


@pytest.fixture
def staffer():
    return UserFactory(username="staffer", is_staff=True, is_superuser=True)


def test_one_device_signs_in_without_choosing_it(client, staffer):
    device = TOTPDevice.objects.create(user=staffer, name="phone", confirmed=True)
    res = _sign_in(client, device)
    assert res.status_code == 302, res.content[:800]
    assert client.get("/admin/tenants/tenant/").status_code == 200


def test_a_wrong_code_is_refused(client, staffer):
    TOTPDevice.objects.create(user=staffer, name="phone", confirmed=True)
    res = client.post(
        "/admin/login/?next=/admin/",
        {"username": "staffer", "password": "correct-horse-battery", "otp_token": "000000"},
    )
    assert res.status_code == 200
    assert b"Invalid token. Please make sure you have entered it correctly." in res.content
    assert client.get("/admin/tenants/tenant/").status_code == 302


def test_an_unconfirmed_or_other_users_device_is_not_used(client, staffer):
    other = UserFactory(username="other", is_staff=True)
    theirs = TOTPDevice.objects.create(user=other, name="theirs", confirmed=True)
    TOTPDevice.objects.create(user=staffer, name="pending", confirmed=False)
    res = _sign_in(client, theirs)
    assert res.status_code == 200
    assert client.get("/admin/tenants/tenant/").status_code == 302


def test_with_two_devices_the_choice_is_still_asked_for(client, staffer):
    phone = TOTPDevice.objects.create(user=staffer, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=staffer, name="tablet", confirmed=True)
    res = _sign_in(client, phone)
    assert res.status_code == 200
    assert b"Please select a device" in res.content
    res = _sign_in(client, phone, otp_device=phone.persistent_id)
    assert res.status_code == 302, res.content[:800]


@pytest.mark.parametrize("code", ["", "123456"])
def test_a_user_without_a_device_is_told_how_to_get_one(client, staffer, code):
    """django-otp answered "Please enter your OTP token." and then "Please select a device."
    over an empty device list: no word that the account has none, nor of ``otp_enroll``."""
    TOTPDevice.objects.create(user=staffer, name="half-done", confirmed=False)
    res = client.post(
        "/admin/login/?next=/admin/",
        {"username": "staffer", "password": "correct-horse-battery", "otp_token": code},
    )
    assert res.status_code == 200
    assert res.context["form"].errors["__all__"] == [
        "This account has no authenticator app set up, so it cannot sign in here yet: an "
        "operator runs `manage.py otp_enroll staffer --staff` and you scan the QR code it "
        "prints."
    ]
    assert client.get("/admin/tenants/tenant/").status_code == 302
    wrong = client.post(
        "/admin/login/?next=/admin/",
        {"username": "staffer", "password": "not-it", "otp_token": code},
    )
    assert b"otp_enroll" not in wrong.content  # a wrong password says only that
