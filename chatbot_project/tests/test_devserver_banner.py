"""`make run`'s banner names the command that opens the admin to the demo's owner. It said
`manage.py otp_enroll <user>`: following it for demo-admin (not staff) gave a device the admin
still refused, `--staff` then asked for `--replace` (a new QR code), and bare `manage.py` is not
runnable outside the virtual environment."""

from __future__ import annotations

from chatbot_project.devserver import banner


def test_the_admin_line_says_how_demo_admin_gets_in():
    text = banner("http://127.0.0.1:8001", "cb_demo", 12.34)
    admin = next(line for line in text.splitlines() if "/admin/" in line)
    assert "http://127.0.0.1:8001/admin/" in admin
    assert ".venv/bin/python manage.py otp_enroll demo-admin --staff" in admin
    assert "Demo key    cb_demo" in text
    assert "ready to serve after 12.3s" in text
