"""unanswered --tenant T [--bot B] [--since 30d] [--limit 50] [--rated-down]: the questions a
tenant's users asked that its bots could not answer from its documents (``GET /v1/unanswered``,
conversations/gaps.py), most asked first, as a table cut to the terminal's width."""

from __future__ import annotations

import shutil
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from bots.cli import one, tenant_named
from bots.models import Bot
from chatbot_project.commands import CheckedCommand
from conversations.gaps import unanswered
from conversations.management.commands.purge_conversations import cutoff_for, parse_age
from conversations.models import Conversation

MAX_LIMIT = 1000


class Command(CheckedCommand):
    help = (
        "List the questions a tenant's users asked that its bots could not answer from its "
        "documents (refused as ungrounded, or answered with no source), most asked first."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", required=True, metavar="SLUG", help="the tenant")
        parser.add_argument("--bot", metavar="SLUG_OR_ID", help="only this bot's questions")
        parser.add_argument(
            "--since", metavar="AGE",
            help="only questions asked within this age: 30d, 12h, 30min, 4w (default: all)",
        )  # fmt: skip
        parser.add_argument(
            "--limit", metavar="N", default="50",
            help=f"show the N most asked questions, 1 to {MAX_LIMIT} (default 50)",
        )  # fmt: skip
        parser.add_argument(
            "--rated-down", action="store_true",
            help="count the answers their users rated down too",
        )  # fmt: skip

    def handle(
        self, *args: Any, tenant: str, bot: str | None, since: str | None, limit: str,
        rated_down: bool, **opts: Any,
    ) -> None:  # fmt: skip
        if not tenant.strip():
            raise CommandError("--tenant is empty; give a tenant's slug.")
        if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_LIMIT:
            raise CommandError(
                f"--limit {limit[:40]!r}: give a whole number from 1 to {MAX_LIMIT}."
            )
        owner = tenant_named(tenant)
        if bot is not None:
            _check_bot(owner, bot)
        start = cutoff_for(parse_age(since, "--since"), since, "--since") if since else None
        rows, more = unanswered(
            tenant=owner, bot=bot, start=start, rated_down=rated_down, limit=int(limit)
        )
        if not rows:
            where = f" for bot {bot!r}" if bot else ""
            when = f" in the last {since}" if since else ""
            self.stdout.write(f"No unanswered questions{where}{when}.")
            return
        self._table(rows)
        shown = f"{len(rows)} question(s)"
        self.stdout.write(f"{shown}; more with a higher --limit." if more else f"{shown}.")

    def _table(self, rows: list[dict[str, Any]]) -> None:
        width = max(shutil.get_terminal_size((100, 24)).columns, 40)
        count_width = max(5, len(str(rows[0]["count"])))
        head = f"{'COUNT':>{count_width}}  {'LAST ASKED':<16}  "
        room = max(width - len(head), 10)
        self.stdout.write(f"{head}QUESTION")
        for row in rows:
            asked = timezone.localtime(row["last_asked"]).strftime("%Y-%m-%d %H:%M")
            question = " ".join(row["question"].split())
            if len(question) > room:
                question = question[: room - 1] + "…"
            self.stdout.write(f"{row['count']:>{count_width}}  {asked:<16}  {question}")


def _check_bot(tenant: Any, ref: str) -> None:
    """A bot of the tenant (by slug or id), or a deleted one's slug its conversations kept."""
    if not ref.strip():
        raise CommandError("--bot is empty; give a bot's slug or id, or leave --bot out.")
    if one(Bot.objects.for_tenant(tenant), ref, "slug") is not None:
        return
    if Conversation.objects.for_tenant(tenant).filter(bot=None, bot_slug=ref).exists():
        return
    slugs = list(Bot.objects.for_tenant(tenant).order_by("slug").values_list("slug", flat=True))
    known = f"its bots: {', '.join(slugs)}" if slugs else "it has no bots"
    raise CommandError(f"No bot {ref!r} in tenant {tenant.slug!r} ({known}).")
