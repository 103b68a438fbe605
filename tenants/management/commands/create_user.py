from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tenants.models import Membership, Tenant
from tenants.services import user_create


class Command(BaseCommand):
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
        password = opts["password"]
        if password is None and not opts["no_input"] and sys.stdin.isatty():
            password = getpass.getpass("Password (empty for none): ") or None
            if password and getpass.getpass("Password again: ") != password:
                raise CommandError("The passwords differ.")
        user = user_create(
            tenant=tenant,
            username=opts["username"],
            password=password,
            role=opts["role"],
            email=opts["email"],
        )
        note = "" if user.has_usable_password() else " (no usable password yet)"
        self.stdout.write(f"User {user.username} is {opts['role']} of tenant {tenant.slug}{note}.")
