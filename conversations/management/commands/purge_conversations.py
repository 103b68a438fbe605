"""Delete conversations (and their messages): not updated for a while (retention), or one end
user's (erasure, GDPR), or both; for operators."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from chatbot_project.commands import CheckedCommand
from chatbot_project.progress import progress
from conversations.erasure import end_user_erase, retention_purge
from conversations.models import Conversation
from tenants.models import Tenant

_UNITS = {"d": "days", "h": "hours", "min": "minutes", "w": "weeks"}
BATCH = 1000  # conversations deleted per transaction


def parse_age(text: str, option: str = "--older-than") -> timedelta:
    """``90d``, ``12h``, ``30min``, ``4w`` (``option``: the argument's name, for the errors). A
    bare ``m`` is refused: read as minutes where months were meant, ``3m`` would delete nearly
    everything."""
    if re.fullmatch(r"\d+\s*(m|mo|mon|month|months|M)", text.strip(), re.ASCII):
        raise CommandError(
            f"{option} {text!r}: 'm' could mean minutes or months; write minutes as 'min' "
            "(e.g. 30min) and months in days or weeks (e.g. 90d)."
        )
    match = re.fullmatch(r"(\d+)\s*(d|h|min|w)", text.strip(), re.ASCII)
    if not match:
        raise CommandError(
            f"{option} {text[:40]!r}: use a number and a unit (d, h, min or w), "
            "e.g. 90d, 12h, 30min, 4w."
        )
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except (OverflowError, ValueError):  # ValueError: over Python's 4,300 digits for an int
        raise _too_old(text, option) from None


def cutoff_for(age: timedelta, text: str, option: str = "--older-than") -> datetime:
    try:
        return timezone.now() - age
    except OverflowError:  # before the year 1
        raise _too_old(text, option) from None


def _too_old(text: str, option: str) -> CommandError:
    return CommandError(
        f"{option} {text[:40]!r} reaches back before the year 1; use a smaller age, e.g. 3650d."
    )


class Command(CheckedCommand):
    help = (
        "Delete conversations whose last activity is older than --older-than (e.g. 90d), or one "
        "end user's (--tenant T --user U: erasure), or both."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", help="age in d, h, min or w: 90d, 12h, 30min, 4w")
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument(
            "--user", help="only this end user's conversations (the id sent with the chats); "
            "needs --tenant",
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(
        self, *args, older_than: str | None, tenant: str | None, user: str | None,
        dry_run: bool, **opts,
    ) -> None:  # fmt: skip
        if tenant is not None and not tenant.strip():
            # An empty --tenant "$VAR" must not widen the purge to every tenant.
            raise CommandError(
                "--tenant is empty; give a tenant's slug, or leave --tenant out to purge "
                "every tenant."
            )
        if user is not None and not user:
            # An empty --user "$VAR" would match every conversation sent without a user.
            raise CommandError("--user is empty; give the end user's id, as sent with the chats.")
        if user is not None and not tenant:
            raise CommandError(
                "--user needs --tenant: end-user ids are each tenant's own (the same id in "
                "another tenant is another person)."
            )
        if older_than is None and user is None:
            raise CommandError(
                "Say what to delete: --older-than 90d (retention), --tenant T --user U (one end "
                "user's conversations), or both."
            )
        qs = Conversation.objects.all()
        cutoff = chosen = None
        if older_than is not None:
            cutoff = cutoff_for(parse_age(older_than), older_than)
            qs = qs.filter(updated_at__lt=cutoff)
        if tenant:
            try:
                chosen = Tenant.objects.get(slug=tenant)
            except Tenant.DoesNotExist:
                raise CommandError(f"No tenant {tenant!r}.") from None
            qs = qs.filter(tenant=chosen)
        if user is not None:
            qs = qs.filter(user=user)
        if dry_run:
            count = qs.count()
            self.stdout.write(
                f"{count} conversation(s) {self._which(older_than, user)} would be deleted."
            )
            return
        # A progress bar (stderr) when it takes more than one batch: the first purge of a large
        # install ran for minutes without a word.
        total = qs.count()
        bar = progress(
            total=total, desc="purge", unit="conversation", file=self.stderr._out,
            disable=total <= BATCH,
        )  # fmt: skip
        # A batch at a time, each its own transaction (conversations_delete_batched). Still idle
        # (updated_at): one continued meanwhile is kept. Text goes, the usage history stays
        # (GET /v1/usage reads UsageArchive too); each batch's rows are re-checked under their
        # locks. Recorded in the audit log (conversations.erasure): an erasure as one
        # conversation.erase, a retention purge as one conversation.purge per tenant.
        if user is not None:
            conversations, messages = end_user_erase(
                tenant=chosen, user=user, conversations=qs, cutoff=cutoff, batch=BATCH,
                progress=bar.update,
            )  # fmt: skip
        else:
            conversations, messages = retention_purge(
                conversations=qs, cutoff=cutoff, older_than=older_than, batch=BATCH,
                progress=bar.update,
            )  # fmt: skip
        bar.close()
        said = f"Deleted {conversations} conversation(s) ({messages} messages)"
        if user is not None:
            said += f" of end user {user!r} in tenant {tenant!r}"
        if cutoff is not None:
            said += f" last active before {cutoff:%Y-%m-%d %H:%M} UTC"
        self.stdout.write(said + ".")

    @staticmethod
    def _which(older_than: str | None, user: str | None) -> str:
        parts = [f"of end user {user!r}"] if user is not None else []
        if older_than is not None:
            parts.append(f"older than {older_than}")
        return " ".join(parts)
