"""``GET /v1/usage``: tokens, messages and latency per day and bot, from the live messages plus
what deleted conversations left in ``UsageArchive`` (``archive_usage``, called before every
conversation delete), so retention (``purge_conversations``) and a user's deletion request erase
text, not the tenant's usage history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from conversations.models import Message, UsageArchive
from conversations.selectors import bot_filter, visible_to
from tenants.context import AuthContext
from tenants.models import Tenant

_ASSISTANT = Q(role=Message.Role.ASSISTANT)
_COUNTS = (
    "messages",
    "user_messages",
    "assistant_messages",
    "refused",
    "feedback_up",
    "feedback_down",
)
_TOKENS = ("prompt_tokens", "completion_tokens", "total_tokens")
_SUMMED = (*_COUNTS, *_TOKENS, "latency_ms_sum", "latency_count")
TOTALLED = ("messages", "feedback_up", "feedback_down", *_TOKENS)  # the report's `totals`


def _message_figures(qs: QuerySet[Message], *group: str) -> QuerySet[Message]:
    """Messages grouped by day (the current time zone's, as TruncDate reads it), bot and the
    slug shown (the bot's current one, else the one its conversations kept), plus ``group``."""
    return (
        qs.annotate(
            day=TruncDate("created_at"), slug=Coalesce("bot__slug", "conversation__bot_slug")
        )
        .values("day", "bot_id", "slug", *group)
        .annotate(
            messages=Count("id"),
            user_messages=Count("id", filter=Q(role=Message.Role.USER)),
            assistant_messages=Count("id", filter=_ASSISTANT),
            refused=Count("id", filter=_ASSISTANT & Q(refused=True)),
            # Ratings on the day of the answer they rate (when it was given, not when rated).
            feedback_up=Count("id", filter=_ASSISTANT & Q(feedback_rating=Message.Rating.UP)),
            feedback_down=Count("id", filter=_ASSISTANT & Q(feedback_rating=Message.Rating.DOWN)),
            prompt_tokens=Coalesce(Sum("prompt_tokens"), 0),
            completion_tokens=Coalesce(Sum("completion_tokens"), 0),
            total_tokens=Coalesce(Sum("total_tokens"), 0),
            latency_ms_sum=Coalesce(Sum("latency_ms", filter=_ASSISTANT), 0),
            latency_count=Count("latency_ms", filter=_ASSISTANT),  # (NULLs not counted)
            max_latency_ms=Max("latency_ms", filter=_ASSISTANT),
        )
    )


def archive_usage(messages: QuerySet[Message]) -> int:
    """Sum ``messages`` (about to be deleted with their conversations) into ``UsageArchive``.
    Call it in the deleting transaction, before the delete. Returns the rows written."""
    rows = [
        UsageArchive(
            tenant_id=r["tenant_id"],
            day=r["day"],
            bot_id=r["bot_id"],
            bot_slug=r["slug"] or "",
            scope_id=r["conversation__scope_id"],
            max_latency_ms=r["max_latency_ms"],
            **{k: r[k] for k in _SUMMED},
        )
        for r in _message_figures(messages.order_by(), "tenant_id", "conversation__scope_id")
    ]
    UsageArchive.objects.bulk_create(rows)
    return len(rows)


def _midnight(day: date | datetime) -> datetime:
    """The first instant of ``day`` in the current time zone (the one TruncDate reads days in)."""
    return timezone.make_aware(datetime.combine(_as_date(day), time.min))


def _as_date(day: date | datetime) -> date:
    return day.date() if isinstance(day, datetime) else day


def _archived(tenant: Tenant, start, end, bot, context) -> Iterable[dict[str, Any]]:
    qs = visible_to(UsageArchive.objects.for_tenant(tenant), context)
    if start:
        qs = qs.filter(day__gte=_as_date(start))
    if end:
        qs = qs.filter(day__lte=_as_date(end))
    if bot:
        qs = qs.filter(bot_filter(tenant, bot))
    return (
        qs.annotate(slug=Coalesce("bot__slug", "bot_slug"))
        .values("day", "bot_id", "slug")
        .annotate(**{k: Sum(k) for k in _SUMMED}, max_latency_ms=Max("max_latency_ms"))
        .order_by()
    )


def usage_by_day(
    *,
    tenant: Tenant,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    bot: str | None = None,
    context: AuthContext | None = None,
) -> list[dict[str, Any]]:
    """Tokens, messages and latency per day and bot (assistant messages carry the usage), live
    messages and archived ones together. A deleted bot's rows stay, under the slug its
    conversations kept, with ``bot_id`` null."""
    qs = visible_to(Message.objects.for_tenant(tenant), context, "conversation__")
    # The days' bounds as instants on created_at itself: "created_at::date >= ..." is the same
    # rows, but no index serves it, so a one-day report scanned every message of the instance.
    if start:
        qs = qs.filter(created_at__gte=_midnight(start))
    if end and _as_date(end) < date.max:
        qs = qs.filter(created_at__lt=_midnight(_as_date(end) + timedelta(days=1)))
    if bot:
        qs = qs.filter(bot_filter(tenant, bot, "conversation__bot_slug"))
    merged: dict[tuple, dict[str, Any]] = {}
    for r in [*_message_figures(qs.order_by()), *_archived(tenant, start, end, bot, context)]:
        key = (r["day"], r["slug"] or "", r["bot_id"])
        into = merged.setdefault(key, {k: 0 for k in _SUMMED} | {"max_latency_ms": None})
        for k in _SUMMED:
            into[k] += r[k] or 0
        if r["max_latency_ms"] is not None:
            into["max_latency_ms"] = max(into["max_latency_ms"] or 0, r["max_latency_ms"])
    return [
        {
            "date": day.isoformat(),
            "bot": slug,
            "bot_id": str(bot_id) if bot_id else None,
            **{k: int(r[k]) for k in (*_COUNTS, *_TOKENS)},
            "avg_latency_ms": (
                round(r["latency_ms_sum"] / r["latency_count"], 1) if r["latency_count"] else None
            ),  # (null: no answer that day; 0.0 is an average like any other)
            "max_latency_ms": r["max_latency_ms"],
        }
        for (day, slug, bot_id), r in sorted(
            merged.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] is None, str(kv[0][2]))
        )
    ]
