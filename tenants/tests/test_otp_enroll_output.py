"""otp_enroll says which device it made and warns when the user cannot sign in yet.

It said "device #2 for dan" for dan's first and only device (#<pk>: a number across all users),
and enrolling a user created without a password (`create_user` in a script, no prompt) gave a
QR code for an admin they could not sign in to, without a word."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


def _enroll(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("otp_enroll", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_device_is_named_not_numbered_across_users(tenant):
    users = get_user_model().objects
    users.create_user(username="ann", password="Correct-Horse-9")
    users.create_user(username="dan", password="Correct-Horse-9")
    _enroll("ann", "--staff")
    out, err = _enroll("dan", "--staff", "--name", "phone")
    assert out.splitlines()[0] == "Scan this with an authenticator app (device 'phone' of dan):"
    assert TOTPDevice.objects.filter(user__username="dan").count() == 1
    assert err == ""


def test_a_user_without_a_usable_password_is_told_how_to_get_one(tenant):
    get_user_model().objects.create_user(username="dan")  # no password
    _, err = _enroll("dan", "--staff")
    assert (
        "Note: dan has no usable password yet; set one with `manage.py changepassword dan` "
        "before they sign in." in err
    )
