"""rotate_api_key --tenant <slug> KEY [--previous-valid-for 1h]

Replace a key with a new one of the same name and settings (as ``POST
/v1/api-keys/{id}/rotate``): the new key is printed once, alone on the last line; the old one
keeps working ``--previous-valid-for`` (default 1h; 0 revokes it now, for a leaked key; at most
7d). The key is named as for ``revoke_api_key``: the whole key, its prefix, its id, or its name
when one working key of the tenant has it (``apikeys.cli``; a key already being rotated shares
its name with its successor, so a name matching both is refused with their prefixes).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError

from apikeys.cli import find_key
from apikeys.services import MAX_PREVIOUS_VALID_FOR, api_key_rotate
from bots.cli import tenant_named
from chatbot_project.commands import CheckedCommand
from chatbot_project.errors import APIError

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(value: str) -> timedelta:
    """``90``, ``90s``, ``30m``, ``1h`` or ``7d``."""
    match = re.fullmatch(r"\s*(\d{1,7})\s*([smhd]?)\s*", value.lower())
    if match is None:
        raise CommandError(
            f"--previous-valid-for {value!r} is not a duration; use e.g. 0, 90s, 30m, 1h or 7d."
        )
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


class Command(CheckedCommand):
    help = (
        "Replace an API key with a new one of the same settings; the old one works "
        "--previous-valid-for more (0: revoked now): "
        "rotate_api_key --tenant <slug> KEY [--previous-valid-for 1h]"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "ref", metavar="KEY",
            help="the key to rotate: the whole key, its prefix (cb_AbCdEfGhI, as listed), its "
            "id, or its name (when one working key of the tenant has it)",
        )  # fmt: skip
        parser.add_argument("--tenant", required=True, help="the key's tenant (slug)")
        parser.add_argument(
            "--previous-valid-for", default="1h",
            help="how long the old key keeps working: 0 (revoked now), 90s, 30m, 1h (default), 7d",
        )  # fmt: skip

    def handle(self, *args: Any, ref: str, tenant: str, previous_valid_for: str, **o: Any) -> None:
        owner = tenant_named(tenant)
        grace = duration(previous_valid_for)
        if grace > MAX_PREVIOUS_VALID_FOR:
            raise CommandError("--previous-valid-for is at most 7d; nothing was rotated.")
        key = find_key(ref, tenant=owner, verb="rotated")
        try:
            new, raw, old = api_key_rotate(tenant=owner, key=key, previous_valid_for=grace)
        except APIError as exc:
            raise CommandError(f"{exc.detail} Nothing was rotated.") from None
        if old.revoked_at is not None:
            when = "revoked now (running servers refuse it within API_KEY_CACHE_SECONDS)"
        else:
            when = f"works until {old.expires_at.isoformat(timespec='seconds')}"
        self.stdout.write(f"Old key {old.prefix}… {old.name!r} of tenant {owner.slug}: {when}")
        self.stdout.write(f"New key {new.prefix}… permissions: {','.join(new.permissions)}")
        self.stdout.write(raw)
