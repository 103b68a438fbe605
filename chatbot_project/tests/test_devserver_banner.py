"""`make run`'s banner names the command that opens the admin to the demo's owner. It said
`manage.py otp_enroll <user>`: following it for demo-admin (not staff) gave a device the admin
still refused, `--staff` then asked for `--replace` (a new QR code), and bare `manage.py` is not
runnable outside the virtual environment."""

from __future__ import annotations

import pytest

from chatbot_project.devserver import admin_enrolled, banner


def test_the_admin_line_says_how_demo_admin_gets_in():
    text = banner("http://127.0.0.1:8001", "cb_demo", 12.34)
    admin = next(line for line in text.splitlines() if "/admin/" in line)
    assert "http://127.0.0.1:8001/admin/" in admin
    assert ".venv/bin/python manage.py otp_enroll demo-admin --staff" in admin
    assert "Demo key    cb_demo" in text
    assert "ready to serve after 12.3s" in text


def test_once_demo_admin_is_enrolled_the_banner_drops_the_enrol_hint():
    text = banner("http://127.0.0.1:8001", "cb_demo", 1.0, admin_enrolled=True)
    admin = next(line for line in text.splitlines() if "/admin/" in line)
    assert admin.strip() == "Admin       http://127.0.0.1:8001/admin/"
    assert "otp_enroll" not in text


def _database_url() -> str:
    from django.db import connection
    from psycopg.conninfo import make_conninfo

    s = connection.settings_dict  # a conninfo string: psycopg.connect takes it as a URL
    return make_conninfo(
        host=s["HOST"], port=s["PORT"], dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"]
    )


@pytest.mark.django_db(transaction=True)
def test_admin_enrolled_reads_demo_admins_confirmed_device():
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    url = _database_url()
    assert admin_enrolled(url) is False  # no demo-admin
    user = get_user_model().objects.create_user("demo-admin", password="x", is_staff=True)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    assert admin_enrolled(url) is False  # enrolment started, not confirmed
    device.confirmed = True
    device.save()
    assert admin_enrolled(url) is True
    other = get_user_model().objects.create_user("someone", password="x")
    TOTPDevice.objects.filter(pk=device.pk).update(user=other)
    assert admin_enrolled(url) is False  # another user's device
    assert admin_enrolled("postgresql://nobody@127.0.0.1:1/none") is False  # unreachable: hint
