"""revoke_api_key KEY... [--tenant <slug>]

For the operator whose key leaked: revoke it from the server's shell, with no admin key or
sign-in at hand. A key is named by the whole key (pasted from wherever it leaked: matched by its
public prefix and checked against its hash), by its prefix (what listings show, e.g.
``show_tenant acme``), by its id, or, with ``--tenant``, by its name when one working key of the
tenant has it (``apikeys.cli``). ``--tenant`` makes sure it is that tenant's key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.db import transaction

from apikeys.cli import find_key
from apikeys.services import api_key_revoke
from chatbot_project.commands import CheckedCommand
from tenants.models import Tenant


class Command(CheckedCommand):
    help = (
        "Revoke API keys, named by the whole key, its prefix, its id or (with --tenant) its "
        "name; all or none: revoke_api_key KEY... [--tenant <slug>]"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "refs", nargs="+", metavar="KEY",
            help="a key to revoke: the whole key (as it leaked), its prefix (cb_AbCdEfGhI, as "
            "listed), its id, or with --tenant its name (when one working key has it)",
        )  # fmt: skip
        parser.add_argument(
            "--tenant",
            help="the keys' tenant (slug): refuse keys of any other tenant; needed to name a "
            "key by its name",
        )

    def handle(self, *args: Any, refs: list[str], tenant: str | None, **opts: Any) -> None:
        only = None
        if tenant is not None:
            only = Tenant.objects.filter(slug=tenant).first()
            if only is None:
                raise CommandError(f"No tenant {tenant!r}.")
        found = {}  # a key named twice (by prefix and by name) is revoked once
        for ref in refs:
            key = find_key(ref, tenant=only, verb="revoked")
            found.setdefault(key.id, key)
        with transaction.atomic():  # all or none
            for key in found.values():
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
