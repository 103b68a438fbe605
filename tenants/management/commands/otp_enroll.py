"""Create a TOTP device for a staff user and print the provisioning URI and a terminal QR code.

Any confirmed device of a user passes the admin's one-time-password check, so a second device
with the same name (enrolling again after losing a phone) is refused: ``--replace`` deletes the
user's existing TOTP devices in the same transaction, ``--name`` adds a device beside them."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from chatbot_project.commands import CheckedCommand, check_text


class Command(CheckedCommand):
    help = "Enroll a TOTP authenticator for a user (needed to use /admin/)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="an existing user (see create_user)")
        parser.add_argument("--name", default="authenticator", help="device name")
        parser.add_argument("--staff", action="store_true", help="also mark the user as staff")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the user's existing TOTP devices (their codes stop working)",
        )

    def handle(self, *args, username: str, name: str, staff: bool, replace: bool, **opts) -> None:
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
        existing = TOTPDevice.objects.filter(user=user)
        if not replace and staff and not user.is_staff and existing.filter(name=name).exists():
            # What this command's own note says to do after enrolling without --staff: it
            # demanded --replace (a new phone enrollment) just to mark the user as staff.
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            self.stdout.write(
                f"Marked {username} as staff; their TOTP device {name!r} is kept (its codes "
                "keep working)."
            )
            return
        if not replace and existing.filter(name=name).exists():
            raise CommandError(
                f"{username!r} already has a TOTP device named {name!r}, whose codes keep "
                "working. Pass --replace to delete the user's devices and enroll a new one (a "
                "lost phone), or --name to add another device."
            )
        with transaction.atomic():
            removed = existing.delete()[0] if replace else 0
            if staff and not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        if removed:
            self.note(
                f"Deleted {removed} earlier TOTP device(s) of {username}; their codes no longer "
                "work."
            )
        uri = device.config_url
        self.stdout.write(
            # (It said "device #<pk>": a number across all users, "#2" for a first device.)
            f"Scan this with an authenticator app (device {name!r} of {username}):\n"
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
        if not user.has_usable_password():  # the code alone signs nobody in
            self.stderr.write(
                f"Note: {username} has no usable password yet; set one with `manage.py "
                f"changepassword {username}` before they sign in."
            )
        self.stdout.write(uri)
