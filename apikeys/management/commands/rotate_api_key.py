"""rotate_api_key --tenant <slug> KEY_OR_PREFIX_OR_ID [--previous-valid-for 1h]

Replace a key with a new one of the same name and settings (as ``POST
/v1/api-keys/{id}/rotate``): the new key is printed once, alone on the last line; the old one
keeps working ``--previous-valid-for`` (default 1h; 0 revokes it now, for a leaked key; at most
7d). The key is named as for ``revoke_api_key``: the whole key, its prefix or its id.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError

from apikeys import keys
from apikeys.management.commands.revoke_api_key import _find
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
        "rotate_api_key --tenant <slug> KEY_OR_PREFIX_OR_ID [--previous-valid-for 1h]"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("ref", metavar="KEY_OR_PREFIX_OR_ID")
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
        key = _find(ref)
        if key is None or key.tenant_id != owner.id:
            shown = ref if len(ref) <= keys.PREFIX_LEN + 2 else ref[: keys.PREFIX_LEN] + "…"
            raise CommandError(
                f"No API key {shown!r} in tenant {owner.slug!r} (name a key by the whole key, "
                "its prefix or its id; nothing was rotated)."
            )
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
