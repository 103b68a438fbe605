"""Delete conversations (and their messages) not updated for a while: retention for operators."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.core.management.base import CommandError
from django.utils import timezone
from tqdm import tqdm

from chatbot_project.commands import CheckedCommand
from conversations.models import Conversation, Message
from conversations.services import conversations_delete
from tenants.models import Tenant

_UNITS = {"d": "days", "h": "hours", "min": "minutes", "w": "weeks"}
BATCH = 1000  # conversations deleted per transaction


def parse_age(text: str) -> timedelta:
    """``90d``, ``12h``, ``30min``, ``4w``. A bare ``m`` is refused: read as minutes where months
    were meant, ``3m`` would delete nearly everything."""
    if re.fullmatch(r"\d+\s*(m|mo|mon|month|months|M)", text.strip(), re.ASCII):
        raise CommandError(
            f"--older-than {text!r}: 'm' could mean minutes or months; write minutes as 'min' "
            "(e.g. 30min) and months in days or weeks (e.g. 90d)."
        )
    match = re.fullmatch(r"(\d+)\s*(d|h|min|w)", text.strip(), re.ASCII)
    if not match:
        raise CommandError(
            f"--older-than {text[:40]!r}: use a number and a unit (d, h, min or w), "
            "e.g. 90d, 12h, 30min, 4w."
        )
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except (OverflowError, ValueError):  # ValueError: over Python's 4,300 digits for an int
        raise _too_old(text) from None


def cutoff_for(age: timedelta, text: str) -> datetime:
    try:
        return timezone.now() - age
    except OverflowError:  # before the year 1
        raise _too_old(text) from None


def _too_old(text: str) -> CommandError:
    return CommandError(
        f"--older-than {text[:40]!r} reaches back before the year 1; use a smaller age, e.g. 3650d."
    )


class Command(CheckedCommand):
    help = "Delete conversations whose last activity is older than --older-than (e.g. 90d)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than", required=True, help="age in d, h, min or w: 90d, 12h, 30min, 4w"
        )
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, older_than: str, tenant: str | None, dry_run: bool, **opts) -> None:
        if tenant is not None and not tenant.strip():
            # An empty --tenant "$VAR" must not widen the purge to every tenant.
            raise CommandError(
                "--tenant is empty; give a tenant's slug, or leave --tenant out to purge "
                "every tenant."
            )
        cutoff = cutoff_for(parse_age(older_than), older_than)
        qs = Conversation.objects.filter(updated_at__lt=cutoff)
        if tenant:
            try:
                qs = qs.filter(tenant=Tenant.objects.get(slug=tenant))
            except Tenant.DoesNotExist:
                raise CommandError(f"No tenant {tenant!r}.") from None
        if dry_run:
            count = qs.count()
            self.stdout.write(f"{count} conversation(s) older than {older_than} would be deleted.")
            return
        conversations = messages = 0
        # A progress bar (stderr) when it takes more than one batch: the first purge of a large
        # install ran for minutes without a word.
        total = qs.count()
        bar = tqdm(
            total=total, desc="purge", unit="conversation", file=self.stderr._out,
            disable=total <= BATCH,
        )  # fmt: skip
        while ids := list(qs.values_list("pk", flat=True)[:BATCH]):
            # A batch at a time, each its own transaction: one delete of every match loaded them
            # all into memory and held their locks until the end (the first purge of a large
            # install). Still idle (updated_at): one continued meanwhile is kept.
            # Text goes, the usage history stays (conversations_delete: GET /v1/usage reads
            # UsageArchive too); the batch's rows are re-checked under their locks.
            counts = conversations_delete(qs.filter(pk__in=ids))
            conversations += counts.get(Conversation._meta.label, 0)
            messages += counts.get(Message._meta.label, 0)
            bar.update(len(ids))
        bar.close()
        self.stdout.write(
            f"Deleted {conversations} conversation(s) ({messages} messages) last active before "
            f"{cutoff:%Y-%m-%d %H:%M} UTC."
        )
