"""Create a TOTP device for a staff user and print the provisioning URI and a terminal QR code."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from chatbot_project.commands import CheckedCommand, check_text


class Command(CheckedCommand):
    help = "Enroll a TOTP authenticator for a user (needed to use /admin/)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="authenticator", help="device name")
        parser.add_argument("--staff", action="store_true", help="also mark the user as staff")

    def handle(self, *args, username: str, name: str, staff: bool, **opts) -> None:
        check_text(name, "--name", controls=True)
        try:
            TOTPDevice._meta.get_field("name").clean(name, None)
        except ValidationError as exc:
            raise CommandError(f"--name: {' '.join(exc.messages)}") from None
        user_model = get_user_model()
        try:
            user = user_model.objects.get(username=username)
        except user_model.DoesNotExist:
            raise CommandError(
                f"No user {username!r}; create it with `manage.py create_user`."
            ) from None
        if staff and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        uri = device.config_url
        self.stdout.write(
            f"Scan this with an authenticator app (device #{device.pk} for {username}):\n"
        )
        try:
            import qrcode

            qr = qrcode.QRCode(border=1)
            qr.add_data(uri)
            buf = io.StringIO()
            qr.print_ascii(out=buf, invert=True)
            self.stdout.write(buf.getvalue())
        except Exception as exc:  # the URI below is enough to enroll
            self.stderr.write(f"(could not draw a QR code: {exc})")
        if not user.is_staff:
            self.stderr.write("Note: this user is not staff; pass --staff to let them use /admin/.")
        self.stdout.write(uri)
