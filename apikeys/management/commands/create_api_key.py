from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from apikeys.models import PERMISSIONS
from apikeys.serializers import APIKeySerializer
from apikeys.services import api_key_create
from bots.cli import one, tenant_named
from bots.models import Bot, Scope
from chatbot_project.commands import CheckedCommand, check_text, validated
from tenants.models import Tenant

# The API's field names as this command's options, for its error sentences.
OPTIONS = {"name": "--name", "allowed_origins": "--origins", "rate_limit": "--rate-limit"}


def _csv(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


# An option given with nothing in it (`--bots "$BOTS"`, the variable unset) must not silently
# mean "no restriction": what to leave out instead, per option.
EMPTY = {
    "permissions": "give at least one of chat, read, write, admin",
    "bots": "give bot slugs or ids, or leave --bots out for a key that may use every bot",
    "scopes": "give scope slugs or ids, or leave --scopes out for a key not limited to scopes",
    "origins": "give origins such as https://www.example.com, or leave --origins out",
}


def _given(opts: dict[str, Any], option: str) -> list[str]:
    """The option's comma-separated values; a CommandError when it was given empty."""
    values = _csv(opts[option] or "")
    if opts[option] is not None and not values:
        raise CommandError(f"--{option} is empty; {EMPTY[option]}.")
    return values


def _lookup(model: Any, tenant: Tenant, refs: list[str], kind: str) -> list:
    """Objects of this tenant by slug or id."""
    out = []
    for ref in refs:
        obj = one(model.objects.for_tenant(tenant), ref, "slug")
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
        parser.add_argument("--tenant", required=True, help="the tenant (slug) the key belongs to")
        parser.add_argument(
            "--name", required=True,
            help="what the key is for, e.g. website (listings show it; rotate_api_key and "
            "revoke_api_key take it when one working key has it)",
        )  # fmt: skip
        parser.add_argument(
            "--permissions",
            help="what the key may do, comma-separated: chat, read, write, admin "
            "(default: chat,read)",
        )
        parser.add_argument(
            "--bots",
            help="the only bots it may use: slugs or ids, comma-separated (default: every bot)",
        )
        parser.add_argument(
            "--scopes",
            help="the only scopes it may chat under: slugs or ids, comma-separated (default: "
            "not limited to scopes)",
        )
        parser.add_argument(
            "--rate-limit", default="",
            help='requests per second, minute, hour or day, e.g. "60/m" (default: the tenant\'s)',
        )  # fmt: skip
        parser.add_argument(
            "--origins", help="browser origins allowed to use the key, comma-separated"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = tenant_named(opts["tenant"])
        permissions = _given(opts, "permissions") or ["chat", "read"]  # None: the default
        bots, scopes, origins = (_given(opts, o) for o in ("bots", "scopes", "origins"))
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
                "allowed_origins": origins,
            },
            OPTIONS,
        )
        row, raw = api_key_create(
            tenant=tenant,
            name=data["name"],
            permissions=data["permissions"],
            bots=_lookup(Bot, tenant, bots, "bot"),
            scopes=_lookup(Scope, tenant, scopes, "scope"),
            rate_limit=data["rate_limit"],
            allowed_origins=data["allowed_origins"],
        )
        limits = [
            f"bots {', '.join(bots)}" if bots else "every bot",
            f"scopes {', '.join(scopes)}" if scopes else "",
            f"origins {', '.join(row.allowed_origins)}" if row.allowed_origins else "any origin",
            f"rate limit {row.rate_limit}" if row.rate_limit else "",
        ]
        self.note(
            f"Created key {row.name!r} ({row.prefix}…) for tenant {tenant.slug} with "
            f"{', '.join(row.permissions)} permissions ({'; '.join(filter(None, limits))}). "
            "Store it now; it is not shown again."
        )
        self.stdout.write(f"Key {row.prefix}… permissions: {','.join(row.permissions)}")
        self.stdout.write(raw)
