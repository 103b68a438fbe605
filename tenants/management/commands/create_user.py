from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import get_user_model, password_validation
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


def _check_password(password: str, user: Any) -> None:
    """The password validators of settings.AUTH_PASSWORD_VALIDATORS, as the admin applies them."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise CommandError(f"The password is refused: {' '.join(exc.messages)}") from None


class Command(CheckedCommand):
    help = (
        "Create a user (or reuse one) with a membership in a tenant: "
        "create_user --tenant <slug> <username> [--role owner|admin|member] "
        "[--password-stdin | --password P]. "
        "A new membership is a member unless --role says otherwise; an existing one keeps its "
        "role unless --role is given. Without --password it prompts when run in a terminal, "
        "else a new user gets no usable password (set one later with changepassword) and an "
        "existing user keeps theirs."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", help="the sign-in name (new, or an existing user)")
        parser.add_argument("--tenant", required=True, help="the tenant (slug) to add them to")
        parser.add_argument(
            "--role",
            choices=Membership.Role.values,
            default=None,
            help="default: member for a new membership, unchanged for an existing one",
        )
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument(
            "--password", default=None,
            help="visible to other users in the process list and kept in shell history; "
            "prefer the prompt or --password-stdin",
        )  # fmt: skip
        secret.add_argument(
            "--password-stdin", action="store_true",
            help="read the password from the first line of standard input (for scripts: "
            "printf '%%s\\n' \"$PW\" | manage.py create_user ...)",
        )  # fmt: skip
        parser.add_argument("--email", default="", help="their e-mail address (optional)")
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
        user_model = get_user_model()
        existing = user_model.objects.filter(username=opts["username"]).first()
        membership = (
            Membership.objects.filter(tenant=tenant, user=existing).first() if existing else None
        )
        password = opts["password"]
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin: standard input held no password.")
            check_text(password, "The password")
        if password is None and not opts["no_input"] and sys.stdin.isatty():
            password = self.prompt(getpass.getpass, "Password (empty for none): ") or None
            if password and self.prompt(getpass.getpass, "Password again: ") != password:
                raise CommandError("The passwords differ.")
            if password:
                check_text(password, "The password")
        if password:
            _check_password(
                password, existing or user_model(username=opts["username"], email=opts["email"])
            )
        role = opts["role"] or (membership.role if membership else Membership.Role.MEMBER)
        user = user_create(
            tenant=tenant,
            username=opts["username"],
            password=password,
            role=role,
            email=opts["email"],
        )
        self.stdout.write(self._summary(user, tenant, role, existing, membership, password))

    @staticmethod
    def _summary(user: Any, tenant: Tenant, role: str, existing: Any, membership: Any,
                 password: str | None) -> str:  # fmt: skip
        """What changed, in one sentence: an existing user's role or password never changes
        unnoticed."""
        if existing is None:
            note = "" if user.has_usable_password() else " (no usable password yet)"
            return f"Created user {user.username}, {role} of tenant {tenant.slug}{note}."
        if membership is None:
            what = f"now {role} of tenant {tenant.slug}"
        elif membership.role != role:
            what = f"now {role} of tenant {tenant.slug} (was {membership.role})"
        else:
            what = f"{role} of tenant {tenant.slug} (unchanged)"
        changed = "; password changed" if password else ""
        return f"Existing user {user.username} is {what}{changed}."
