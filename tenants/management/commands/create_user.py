from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from chatbot_project.commands import CheckedCommand, check_text
from tenants.models import Membership, Tenant
from tenants.services import user_create


def _validate(field_name: str, value: str, label: str) -> None:
    """The user model's own rules for the field (Django's username validator, 150 characters,
    not blank; a valid email), as forms and the admin apply them."""
    field = get_user_model()._meta.get_field(field_name)
    try:
        field.clean(value, None)
    except ValidationError as exc:
        raise CommandError(f"{label}: {' '.join(exc.messages)}") from None


class Command(CheckedCommand):
    help = (
        "Create a user (or reuse one) with a membership in a tenant: "
        "create_user --tenant <slug> <username> [--role owner|admin|member] [--password P]. "
        "Without --password it prompts when run in a terminal, else the user gets no usable "
        "password (set one later with changepassword)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--role", choices=Membership.Role.values, default="member")
        parser.add_argument("--password", default=None)
        parser.add_argument("--email", default="")
        parser.add_argument("--no-input", action="store_true", help="never prompt for a password")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            tenant = Tenant.objects.get(slug=opts["tenant"])
        except Tenant.DoesNotExist:
            raise CommandError(
                f"No tenant {opts['tenant']!r}; create it with `manage.py create_tenant`."
            ) from None
        _validate(get_user_model().USERNAME_FIELD, opts["username"], "username")
        if opts["email"]:
            _validate("email", opts["email"], "--email")
        password = opts["password"]
        if password is None and not opts["no_input"] and sys.stdin.isatty():
            password = getpass.getpass("Password (empty for none): ") or None
            if password and getpass.getpass("Password again: ") != password:
                raise CommandError("The passwords differ.")
            if password:
                check_text(password, "The password")
        user = user_create(
            tenant=tenant,
            username=opts["username"],
            password=password,
            role=opts["role"],
            email=opts["email"],
        )
        note = "" if user.has_usable_password() else " (no usable password yet)"
        self.stdout.write(f"User {user.username} is {opts['role']} of tenant {tenant.slug}{note}.")
