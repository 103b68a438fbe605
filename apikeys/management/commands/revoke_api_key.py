"""revoke_api_key KEY_OR_PREFIX_OR_ID... [--tenant <slug>]

For the operator whose key leaked: revoke it from the server's shell, with no admin key or
sign-in at hand. A key is named by the whole key (pasted from wherever it leaked: matched by its
public prefix and checked against its hash), by its prefix (what listings show, e.g.
``show_tenant acme``), or by its id. ``--tenant`` makes sure it is that tenant's key.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

from apikeys import keys
from apikeys.models import APIKey
from apikeys.services import api_key_revoke
from chatbot_project.commands import CheckedCommand
from tenants.models import Tenant


def _find(ref: str) -> APIKey | None:
    ref = ref.strip().rstrip("…").rstrip(".")  # a prefix copied with the listing's ellipsis
    if keys.looks_valid(ref):
        key = APIKey.objects.filter(prefix=keys.public_prefix(ref)).first()
        return key if key is not None and keys.matches(ref, key.key_hash) else None
    key = APIKey.objects.filter(prefix=ref).first() if ref else None
    if key is None and ref:
        try:
            key = APIKey.objects.filter(id=ref).first()
        except ValidationError:  # not a UUID
            key = None
    return key


class Command(CheckedCommand):
    help = (
        "Revoke API keys, named by the whole key, its prefix or its id: "
        "revoke_api_key KEY_OR_PREFIX_OR_ID... [--tenant <slug>]"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("refs", nargs="+", metavar="KEY_OR_PREFIX_OR_ID")
        parser.add_argument("--tenant", help="refuse keys of any other tenant")

    def handle(self, *args: Any, refs: list[str], tenant: str | None, **opts: Any) -> None:
        only = None
        if tenant is not None:
            only = Tenant.objects.filter(slug=tenant).first()
            if only is None:
                raise CommandError(f"No tenant {tenant!r}.")
        found = []
        for ref in refs:
            key = _find(ref)
            if key is None or (only is not None and key.tenant_id != only.id):
                where = f" in tenant {only.slug!r}" if only is not None else ""
                shown = ref if len(ref) <= keys.PREFIX_LEN + 2 else ref[: keys.PREFIX_LEN] + "…"
                raise CommandError(
                    f"No API key {shown!r}{where} (name a key by the whole key, its prefix or "
                    "its id; nothing was revoked)."
                )
            found.append(key)
        with transaction.atomic():  # all or none
            for key in found:
                was_revoked = key.revoked_at is not None
                api_key_revoke(tenant=key.tenant, key=key)
                state = "was already revoked" if was_revoked else "revoked"
                self.stdout.write(
                    f"{key.prefix}… {key.name!r} of tenant {key.tenant.slug}: {state}"
                )
        self.note(
            "Running servers refuse a revoked key (401) within API_KEY_CACHE_SECONDS and end "
            "the chats still open with it within CHAT_REVALIDATE_SECONDS."
        )
