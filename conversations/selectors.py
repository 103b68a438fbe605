"""Reads for chat and conversations; the first argument is always the tenant."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Avg, Count, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate

from bots.models import Bot, Scope
from chatbot_project.errors import NotFound
from conversations.models import Conversation, Message
from tenants.context import AuthContext
from tenants.models import Tenant


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def bot_resolve(*, tenant: Tenant, ref: Any, context: AuthContext | None = None) -> Bot:
    """An active bot by slug or id, visible to this credential; else NotFound."""
    if not ref or not isinstance(ref, str | uuid.UUID):
        raise NotFound("No such bot, or it is not visible to this credential.")
    # One query: the bot, its default scope and its dataset ids (read by bot_dataset_ids).
    qs = (
        Bot.objects.for_tenant(tenant)
        .filter(is_active=True)
        .select_related("default_scope")
        .annotate(dataset_id_list=ArrayAgg("datasets__id", distinct=True, default=Value([])))
    )
    as_id = _as_uuid(ref)
    bot = (qs.filter(id=as_id) if as_id else qs.filter(slug=str(ref))).first()
    if bot is None or (
        context is not None
        and context.allowed_bot_ids is not None
        and bot.id not in context.allowed_bot_ids
    ):
        raise NotFound("No such bot, or it is not visible to this credential.")
    return bot


def scope_resolve(*, tenant: Tenant, ref: Any, context: AuthContext | None = None) -> Scope:
    """A scope by slug or id; 404 when unknown, 403 when this key may not use it."""
    from chatbot_project.errors import APIError

    qs = Scope.objects.for_tenant(tenant)
    as_id = _as_uuid(ref)
    scope = (qs.filter(id=as_id) if as_id else qs.filter(slug=str(ref))).first()
    if scope is None:
        raise NotFound("No such scope, or it is not visible to this credential.")
    allowed = context.allowed_scope_ids if context is not None else None
    if allowed is not None and scope.id not in allowed:
        raise APIError(
            "This API key may not use that scope; use one of the key's scopes or none.",
            type="permission_denied",
            status_code=403,
        )
    return scope


def bot_dataset_ids(bot: Bot) -> list[uuid.UUID]:
    preloaded = getattr(bot, "dataset_id_list", None)
    if preloaded is not None:
        return [d for d in preloaded if d is not None]
    return list(bot.datasets.values_list("id", flat=True))


def conversation_get(
    *, tenant: Tenant, conversation_id: Any, bot: Bot | None = None
) -> Conversation:
    as_id = _as_uuid(conversation_id)
    qs = Conversation.objects.for_tenant(tenant).select_related("bot", "scope")
    if bot is not None:
        qs = qs.filter(bot=bot)
    conv = qs.filter(id=as_id).first() if as_id else None
    if conv is None:
        raise NotFound("No such conversation, or it is not visible to this credential.")
    return conv


def conversation_list(
    *, tenant: Tenant, bot: str | None = None, user: str | None = None
) -> QuerySet[Conversation]:
    qs = Conversation.objects.for_tenant(tenant).select_related("bot", "scope")
    if bot:
        as_id = _as_uuid(bot)
        qs = qs.filter(bot_id=as_id) if as_id else qs.filter(bot__slug=bot)
    if user:
        qs = qs.filter(user=user)
    return qs


def conversation_messages(*, tenant: Tenant, conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .order_by("created_at", "id")
    )


def history_for(*, tenant: Tenant, conversation: Conversation, limit: int = 40) -> list[dict]:
    """Recent turns as chat messages, oldest first (failed or empty answers left out)."""
    rows = list(
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .exclude(content="")
        .exclude(role=Message.Role.ASSISTANT, finish_reason=Message.FinishReason.ERROR)
        .order_by("-created_at", "-id")
        .values("role", "content")[:limit]
    )
    rows.reverse()
    return [{"role": r["role"], "content": r["content"]} for r in rows]


def message_get(*, tenant: Tenant, message_id: Any) -> Message:
    as_id = _as_uuid(message_id)
    msg = Message.objects.for_tenant(tenant).filter(id=as_id).first() if as_id else None
    if msg is None:
        raise NotFound("No such message, or it is not visible to this credential.")
    return msg


def usage_by_day(
    *,
    tenant: Tenant,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    bot: str | None = None,
) -> list[dict[str, Any]]:
    """Tokens, messages and latency per day and bot (assistant messages carry the usage)."""
    qs = Message.objects.for_tenant(tenant)
    if start:
        qs = qs.filter(created_at__date__gte=start)
    if end:
        qs = qs.filter(created_at__date__lte=end)
    if bot:
        as_id = _as_uuid(bot)
        qs = qs.filter(bot_id=as_id) if as_id else qs.filter(bot__slug=bot)
    assistant = Q(role=Message.Role.ASSISTANT)
    rows = (
        qs.annotate(day=TruncDate("created_at"))
        .values("day", "bot_id", "bot__slug")
        .annotate(
            messages=Count("id"),
            user_messages=Count("id", filter=Q(role=Message.Role.USER)),
            assistant_messages=Count("id", filter=assistant),
            refused=Count("id", filter=assistant & Q(refused=True)),
            prompt_tokens=Sum("prompt_tokens"),
            completion_tokens=Sum("completion_tokens"),
            total_tokens=Sum("total_tokens"),
            avg_latency_ms=Avg("latency_ms", filter=assistant),
            max_latency_ms=Max("latency_ms", filter=assistant),
        )
        .order_by("day", "bot__slug")
    )
    return [
        {
            "date": r["day"].isoformat(),
            "bot": r["bot__slug"],
            "bot_id": str(r["bot_id"]),
            "messages": r["messages"],
            "user_messages": r["user_messages"],
            "assistant_messages": r["assistant_messages"],
            "refused": r["refused"],
            "prompt_tokens": r["prompt_tokens"] or 0,
            "completion_tokens": r["completion_tokens"] or 0,
            "total_tokens": r["total_tokens"] or 0,
            "avg_latency_ms": round(r["avg_latency_ms"], 1) if r["avg_latency_ms"] else None,
            "max_latency_ms": r["max_latency_ms"],
        }
        for r in rows
    ]
