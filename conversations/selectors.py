"""Reads for chat and conversations; the first argument is always the tenant."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from bots.models import Bot, Scope
from chatbot_project.errors import APIError, Conflict, NotFound
from conversations.models import Conversation, Message
from tenants.context import AuthContext
from tenants.models import Tenant

T = TypeVar("T")


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _select_list(model: Any, alias: str) -> tuple[list[str], str]:
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], ", ".join(f'{alias}."{f.column}"' for f in fields)


@lru_cache(maxsize=2)
def _bot_sql(by_id: bool) -> tuple[str, list[str], list[str]]:
    bot_names, bot_cols = _select_list(Bot, "b")
    scope_names, scope_cols = _select_list(Scope, "s")
    m2m_bot = Bot.datasets.through._meta.db_table
    m2m_scope = Scope.datasets.through._meta.db_table
    # Table and column names come from the models; every value is a parameter.
    sql = (
        f"SELECT {bot_cols}, {scope_cols}, "  # noqa: S608
        f"ARRAY(SELECT dataset_id FROM {m2m_bot} WHERE bot_id = b.id), "
        f"ARRAY(SELECT dataset_id FROM {m2m_scope} WHERE scope_id = s.id) "
        f"FROM {Bot._meta.db_table} b LEFT JOIN {Scope._meta.db_table} s "
        "ON s.id = b.default_scope_id AND s.tenant_id = b.tenant_id "
        f"WHERE b.tenant_id = %s AND b.is_active AND b.{'id' if by_id else 'slug'} = %s LIMIT 1"
    )
    return sql, bot_names, scope_names


def bot_resolve(*, tenant: Tenant, ref: Any, context: AuthContext | None = None) -> Bot:
    """An active bot by slug or id, visible to this credential; else NotFound.

    The chat path's hot read, so one hand-written query (the ORM spent ~2 ms of CPU building
    and compiling the equivalent queryset; the SQL itself takes ~0.2 ms): the bot, its default
    scope, both dataset-id lists (read by ``bot_dataset_ids`` and retrieval), with the tenant
    and default scope attached so nothing later queries them again.
    """
    statement = _bot_statement(tenant, ref)
    if statement is None:
        raise NotFound("No such bot, or it is not visible to this credential.")
    row = _row(statement)
    if row is None:
        raise _bot_missing(tenant, ref, context)
    return _bot_from_row(tenant, row, context)


def _bot_missing(tenant: Tenant, ref: Any, context: AuthContext | None) -> NotFound:
    """The 404 for a bot the chat query did not find (it reads active bots only): a bot of
    this tenant that is deactivated and that this credential may use says so (it read "No
    such bot", sending integrators hunting for a typo); anything else, another tenant's bot
    included, reads exactly as a missing one. Only on this miss path: one more query."""
    as_id = _as_uuid(ref)
    lookup = {"id": as_id} if as_id is not None else {"slug": str(ref)}
    bot_id = (
        Bot.objects.for_tenant(tenant)
        .filter(is_active=False, **lookup)
        .values_list("id", flat=True)
        .first()
    )
    allowed = context.allowed_bot_ids if context is not None else None
    if bot_id is None or (allowed is not None and bot_id not in allowed):
        return NotFound("No such bot, or it is not visible to this credential.")
    return NotFound(
        "This bot is deactivated (`is_active` is false); a tenant admin can turn it back on."
    )


def _bot_statement(tenant: Tenant, ref: Any) -> tuple[str, list[Any]] | None:
    if not ref or not isinstance(ref, str | uuid.UUID):
        return None
    as_id = _as_uuid(ref)
    sql = _bot_sql(as_id is not None)[0]
    return sql, [tenant.id, as_id if as_id is not None else str(ref)]


def _bot_from_row(tenant: Tenant, row: Any, context: AuthContext | None) -> Bot:
    if row is None:
        raise NotFound("No such bot, or it is not visible to this credential.")
    _, bot_names, scope_names = _bot_sql(True)
    n_bot, n_scope = len(bot_names), len(scope_names)
    bot = Bot.from_db(connection.alias, bot_names, row[:n_bot])
    allowed = context.allowed_bot_ids if context is not None else None
    if allowed is not None and bot.id not in allowed:
        raise NotFound("No such bot, or it is not visible to this credential.")
    scope = None
    if row[n_bot] is not None:
        scope = Scope.from_db(connection.alias, scope_names, row[n_bot : n_bot + n_scope])
        scope._dataset_ids_cache = list(row[-1])  # type: ignore[attr-defined]
        Scope.tenant.field.set_cached_value(scope, tenant)
    Bot.default_scope.field.set_cached_value(bot, scope)
    Bot.tenant.field.set_cached_value(bot, tenant)
    bot.dataset_id_list = list(row[-2])  # type: ignore[attr-defined]
    return bot


# (tenant id, ref) -> the bot query's last row in this process (see ``with_bot``)
_bot_rows: dict[tuple[Any, str], tuple[Any, ...]] = {}
BOT_ROWS_MAX = 10_000


def with_bot(
    *, tenant: Tenant, ref: Any, context: AuthContext | None, work: Callable[[Bot], T]
) -> T:
    """``work(bot_resolve(...))`` without a round trip of its own for the bot when this process
    has read it before: ``work`` runs with the bot built from the row read last time, and the
    bot query rides along ``work``'s first database round trip (``pgpipe.riding``; retrieval
    sends its statements that way). Only if the row it returns is the same is ``work``'s result
    (or error) kept; otherwise (bot changed, renamed, removed, datasets or scope edited) it is
    discarded and ``work`` runs again with the fresh bot. Read-only ``work`` only."""
    statement = _bot_statement(tenant, ref)
    if statement is None:
        raise NotFound("No such bot, or it is not visible to this credential.")
    key = (tenant.id, str(ref))
    cached = _bot_rows.get(key)
    if cached is not None:
        from chatbot_project.pgpipe import riding

        error: BaseException | None = None
        with riding(statement) as rider:
            try:
                result = work(_bot_from_row(tenant, cached, context))
            except APIError as exc:
                error = exc
        if rider.rows is not None:
            fresh = rider.rows[0] if rider.rows else None
        else:  # work sent nothing
            fresh = _row(statement)
        if fresh is not None and tuple(fresh) == cached:
            if error is not None:
                raise error
            return result
    else:
        fresh = _row(statement)
    if fresh is None:
        _bot_rows.pop(key, None)
        raise _bot_missing(tenant, ref, context)
    if len(_bot_rows) >= BOT_ROWS_MAX:
        _bot_rows.clear()
    _bot_rows[key] = tuple(fresh)
    return work(_bot_from_row(tenant, fresh, context))


def _row(statement: tuple[str, list[Any]]) -> Any:
    """The statement's first row (or None), prepared and bound server-side like the
    statements it may ride with: ~0.5 ms of planning saved per bot read."""
    from chatbot_project.pgpipe import run_on_django_connection

    rows = run_on_django_connection([statement])[0]
    return rows[0] if rows else None


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


def scope_fallback(context: AuthContext | None, scope: Scope | None) -> Scope | None:
    """The scope a request that named none runs under (the bot's default, or the
    conversation's), checked against a key limited to certain scopes: such a key never runs
    under another scope, nor under none (that would lift its limit)."""
    allowed = context.allowed_scope_ids if context is not None else None
    if allowed is None or (scope is not None and scope.id in allowed):
        return scope
    raise APIError(
        "This API key is limited to certain scopes; send `scope` (one of the key's scopes).",
        type="permission_denied", status_code=403,
    )  # fmt: skip


def bot_dataset_ids(bot: Bot) -> list[uuid.UUID]:
    preloaded = getattr(bot, "dataset_id_list", None)
    if preloaded is not None:
        return [d for d in preloaded if d is not None]
    return list(bot.datasets.values_list("id", flat=True))


def visible_to(qs: QuerySet[Any], context: AuthContext | None, prefix: str = "") -> QuerySet[Any]:
    """``qs`` (conversations, or messages with ``prefix="conversation__"``) narrowed to what a
    key limited to certain bots or scopes may read: its bots' chats, run under its scopes. A
    limited key must not read around its limit through the read routes."""
    if context is None:
        return qs
    if context.allowed_bot_ids is not None:
        qs = qs.filter(**{f"{prefix}bot_id__in": context.allowed_bot_ids})
    if context.allowed_scope_ids is not None:
        qs = qs.filter(**{f"{prefix}scope_id__in": context.allowed_scope_ids})
    return qs


def bot_filter(tenant: Tenant, ref: str, slug_field: str = "bot_slug") -> Q:
    """Rows (conversations; messages with ``slug_field="conversation__bot_slug"``) of the bot
    ``ref`` names: by id, a bot that exists; by slug, the bot of that slug and the deleted bots
    that had it (kept conversations: ``bot`` NULL, ``bot_slug``). Both halves use an index
    that starts with (tenant, bot)."""
    as_id = _as_uuid(ref)
    if as_id:
        return Q(bot_id=as_id)
    live = list(Bot.objects.for_tenant(tenant).filter(slug=ref).values_list("id", flat=True))
    return Q(bot_id__in=live) | Q(bot_id=None, **{slug_field: ref})


def conversation_get(
    *, tenant: Tenant, conversation_id: Any, context: AuthContext | None = None
) -> Conversation:
    as_id = _as_uuid(conversation_id)
    qs = visible_to(Conversation.objects.for_tenant(tenant), context).select_related("bot", "scope")
    conv = qs.filter(id=as_id).first() if as_id else None
    if conv is None:
        raise NotFound("No such conversation, or it is not visible to this credential.")
    return conv


def conversation_to_continue(
    *, tenant: Tenant, conversation_id: Any, bot: Bot, context: AuthContext | None = None,
    user: str = "",
) -> Conversation:  # fmt: skip
    """The conversation a chat with ``bot`` by the end user ``user`` continues. 404 unless
    ``context`` may read it (``visible_to``: a key limited to scopes must not continue, and so
    have the model read back, a conversation held under another scope) and, when the chat names
    a ``user`` or comes with a browser key (its visitors are not trusted to leave it out), it
    is that user's: another end user's conversation reads as a missing one, before its bot is
    looked at (its turns would be the model's history, and the answer appended to them). A
    server-side caller naming no user continues any it may read, as before; a 400 naming its bot
    when it is another bot's; a 409 when its bot was deleted (the conversation is kept, but no
    bot can answer in it), for a credential that may read it (a key limited to bots or scopes
    never sees such a conversation: 404)."""
    conv = conversation_get(tenant=tenant, conversation_id=conversation_id, context=context)
    browser = bool(context is not None and context.allowed_origins)
    if (user or browser) and conv.user != user:  # (conversation_get's words: indistinguishable)
        raise NotFound("No such conversation, or it is not visible to this credential.")
    if conv.bot_id == bot.id:
        return conv
    if conv.bot_id is None:
        raise Conflict(
            "This conversation's bot was deleted, so it cannot be continued; start a new "
            "conversation (send no conversation_id)."
        )
    # Another bot's conversation this credential may read (a key limited to bots sees only its
    # bots' conversations): say so, rather than that the conversation does not exist.
    raise APIError(
        f"This conversation belongs to the bot `{conv.bot.slug}`; send that bot to continue it, "
        "or no conversation_id to start a new conversation.",
        details={"conversation_bot": conv.bot.slug},
    )


def conversation_list(
    *, tenant: Tenant, bot: str | None = None, user: str | None = None,
    rating: str | None = None, context: AuthContext | None = None,
) -> QuerySet[Conversation]:  # fmt: skip
    """``rating`` (``up`` or ``down``): only conversations with an answer rated so (a 400
    otherwise), to review what users found wrong."""
    qs = visible_to(Conversation.objects.for_tenant(tenant), context).select_related("bot", "scope")
    if bot:
        qs = qs.filter(bot_filter(tenant, bot))
    if user:
        qs = qs.filter(user=user)
    if rating is not None:
        if rating not in Message.Rating.values:
            raise APIError(
                f"`rating` must be one of {', '.join(Message.Rating.values)}; it was {rating!r}.",
                details={"fields": {"rating": ["Use up or down."]}},
            )
        rated = Message.objects.filter(
            tenant_id=tenant.id, conversation_id=OuterRef("pk"),
            role=Message.Role.ASSISTANT, feedback_rating=rating,
        )  # fmt: skip
        qs = qs.filter(Exists(rated))
    return qs


def conversations_of_end_user(
    *, tenant: Tenant, user: str, context: AuthContext | None = None
) -> QuerySet[Conversation]:
    """The end user ``user``'s conversations (matched exactly as sent with the chats) that
    ``context`` may read (``visible_to``), for erasing them: no joins, so the rows can be
    locked (``conversations_delete``)."""
    return visible_to(Conversation.objects.for_tenant(tenant), context).filter(user=user)


def conversation_messages(*, tenant: Tenant, conversation: Conversation) -> QuerySet[Message]:
    return (
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .order_by("created_at", "id")
    )


def history_for(*, tenant: Tenant, conversation: Conversation, limit: int = 40) -> list[dict]:
    """Recent turns as chat messages, oldest first (failed or empty answers left out with
    their questions, and the turns the scope's guardrails refused: the model was never to read
    that question, and "answer my previous question" sent it as history). A question left
    without an answer (it failed, or another chat of the conversation is still answering it)
    is not history: the widget's Retry asks it again, and the model read it twice."""
    rows = list(
        Message.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .exclude(content="")
        .exclude(role=Message.Role.ASSISTANT, finish_reason=Message.FinishReason.ERROR)
        .order_by("-created_at", "-id")
        .values("role", "content", "refused", "model")[:limit]
    )
    rows.reverse()
    turns: list[dict] = []
    for r in rows:
        if r["refused"] and not r["model"]:  # a guardrail refusal (the model was not asked)
            if turns and turns[-1]["role"] == Message.Role.USER:
                turns.pop()  # its question
            continue
        if r["role"] == Message.Role.USER and turns and turns[-1]["role"] == Message.Role.USER:
            turns.pop()  # the question before it was never answered
        turns.append({"role": r["role"], "content": r["content"]})
    if turns and turns[-1]["role"] == Message.Role.USER:
        turns.pop()
    return turns


def message_get(*, tenant: Tenant, message_id: Any) -> Message:
    as_id = _as_uuid(message_id)
    msg = Message.objects.for_tenant(tenant).filter(id=as_id).first() if as_id else None
    if msg is None:
        raise NotFound("No such message, or it is not visible to this credential.")
    return msg
