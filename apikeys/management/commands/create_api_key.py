from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apikeys.models import PERMISSIONS
from apikeys.services import api_key_create
from bots.models import Bot, Scope
from chatbot_project.errors import APIError
from tenants.models import Tenant


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


class Command(BaseCommand):
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
        try:
            row, raw = api_key_create(
                tenant=tenant,
                name=opts["name"],
                permissions=permissions,
                bots=_lookup(Bot, tenant, _csv(opts["bots"]), "bot"),
                scopes=_lookup(Scope, tenant, _csv(opts["scopes"]), "scope"),
                rate_limit=opts["rate_limit"],
                allowed_origins=[o.rstrip("/") for o in _csv(opts["origins"])],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except APIError as exc:
            raise CommandError(str(exc.detail)) from None
        self.stderr.write(
            f"Created key {row.name!r} ({row.prefix}…) for tenant {tenant.slug} with "
            f"{', '.join(row.permissions) or 'no'} permissions. "
            "Store it now; it is not shown again."
        )
        self.stdout.write(f"Key {row.prefix}… permissions: {','.join(row.permissions)}")
        self.stdout.write(raw)
