from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from apikeys.models import PERMISSIONS
from apikeys.serializers import APIKeySerializer
from apikeys.services import api_key_create
from bots.models import Bot, Scope
from chatbot_project.commands import CheckedCommand, check_text, validated
from tenants.models import Tenant

# The API's field names as this command's options, for its error sentences.
OPTIONS = {"name": "--name", "allowed_origins": "--origins", "rate_limit": "--rate-limit"}


def _csv(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _lookup(model: Any, tenant: Tenant, refs: list[str], kind: str) -> list:
    """Objects of this tenant by slug or id."""
    out = []
    for ref in refs:
        qs = model.objects.for_tenant(tenant)
        obj = qs.filter(slug=ref).first()
        if obj is None:
            try:
                obj = qs.filter(id=ref).first()
            except ValidationError:
                obj = None
        if obj is None:
            raise CommandError(f"No {kind} {ref!r} in tenant {tenant.slug!r}.")
        out.append(obj)
    return out


class Command(CheckedCommand):
    help = (
        "Create an API key and print it alone on the last line of stdout (it is shown only once). "
        "create_api_key --tenant <slug> --name N [--permissions chat,read,write,admin] "
        "[--bots a,b] [--scopes a,b] [--rate-limit 60/m] [--origins https://a,https://b]"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--permissions", default="chat,read", help="comma-separated")
        parser.add_argument("--bots", default="", help="bot slugs or ids, comma-separated")
        parser.add_argument("--scopes", default="", help="scope slugs or ids, comma-separated")
        parser.add_argument("--rate-limit", default="", help='e.g. "60/m"')
        parser.add_argument("--origins", default="", help="allowed browser origins")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            tenant = Tenant.objects.get(slug=opts["tenant"])
        except Tenant.DoesNotExist:
            raise CommandError(
                f"No tenant {opts['tenant']!r}; create it with `manage.py create_tenant`."
            ) from None
        permissions = _csv(opts["permissions"])
        unknown = set(permissions) - set(PERMISSIONS)
        if unknown:
            raise CommandError(f"Unknown permissions {sorted(unknown)}; use {list(PERMISSIONS)}.")
        check_text(opts["name"], "--name", controls=True)
        # The API's validation of these fields (POST /v1/keys): both refuse the same keys.
        data = validated(
            APIKeySerializer,
            {
                "name": opts["name"],
                "permissions": permissions,
                "rate_limit": opts["rate_limit"],
                "allowed_origins": _csv(opts["origins"]),
            },
            OPTIONS,
        )
        row, raw = api_key_create(
            tenant=tenant,
            name=data["name"],
            permissions=data["permissions"],
            bots=_lookup(Bot, tenant, _csv(opts["bots"]), "bot"),
            scopes=_lookup(Scope, tenant, _csv(opts["scopes"]), "scope"),
            rate_limit=data["rate_limit"],
            allowed_origins=data["allowed_origins"],
        )
        self.stderr.write(
            f"Created key {row.name!r} ({row.prefix}…) for tenant {tenant.slug} with "
            f"{', '.join(row.permissions) or 'no'} permissions. "
            "Store it now; it is not shown again."
        )
        self.stdout.write(f"Key {row.prefix}… permissions: {','.join(row.permissions)}")
        self.stdout.write(raw)
