"""Writes for chat and conversations (keyword-only, ``<entity>_<verb>``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from bots.models import Bot, Scope
from chatbot_project.errors import APIError, NotFound
from chatbot_project.pgpipe import run_on_django_connection
from conversations.models import Conversation, Message, UsageArchive
from conversations.usage import archive_usage
from tenants.models import Tenant


def conversation_start(
    *,
    tenant: Tenant,
    bot: Bot,
    scope: Scope | None,
    user: str,
    question: str,
    api_key: Any = None,
    metadata: dict[str, Any] | None = None,
) -> Conversation:
    return Conversation.objects.create(
        tenant=tenant,
        bot=bot,
        bot_slug=bot.slug,
        scope=scope,
        user=user or "",
        title=" ".join(question.split())[:80],
        api_key=api_key,
        metadata=metadata or {},
    )


def conversation_build(
    *,
    tenant: Tenant,
    bot: Bot,
    scope: Scope | None,
    user: str,
    question: str,
    api_key: Any = None,
    metadata: dict[str, Any] | None = None,
    id: uuid.UUID | None = None,
) -> Conversation:
    """An unsaved conversation with its id (chat_start_write inserts it)."""
    return Conversation(
        id=id or uuid.uuid4(),
        tenant=tenant,
        bot=bot,
        bot_slug=bot.slug,
        scope=scope,
        user=user or "",
        title=" ".join(question.split())[:80],
        api_key=api_key,
        metadata=metadata or {},
    )


# --------------------------------------------------------------------------- chat-path writes
# Every chat writes its conversation, the user's message and the answer. Model.save() spent
# ~1 ms of CPU per row here (signals, per-field preparation, the SQL compiler), more than the
# database did; these writes use one prepared INSERT per model, with the same per-field
# preparation Django applies (pre_save for auto_now fields, get_db_prep_save), and send each
# group of statements in ONE round trip (one implicit transaction).
@lru_cache(maxsize=8)
def _insert_sql(model: type[Model]) -> str:
    fields = model._meta.concrete_fields
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({values})'  # noqa: S608


def _insert_params(obj: Model) -> list[Any]:
    """Values as Model.save() would write them (auto_now/auto_now_add filled in on ``obj``)."""
    # This thread's connection itself: the ``django.db.connection`` proxy looks it up again
    # (asgiref Local) on each of the ~30 attribute reads the fields' preparation makes.
    conn = connections[DEFAULT_DB_ALIAS]
    out = []
    for field in obj._meta.concrete_fields:
        value = field.pre_save(obj, add=True)
        out.append(field.get_db_prep_save(value, conn))
    obj._state.adding = False
    obj._state.db = conn.alias
    return out


def _execute(statements: list[tuple[str, list[Any]]]) -> None:
    """The statements in one round trip and one transaction, bound server-side and prepared
    (``pgpipe``): Django's client-side binding quoted every value in Python, and PostgreSQL
    parsed and planned each INSERT again."""
    run_on_django_connection(statements, transaction="commit" if len(statements) > 1 else None)


def chat_start_statements(
    *,
    tenant: Tenant,
    conversation: Conversation,
    new_conversation: bool,
    user_message_id: uuid.UUID,
    content: str,
    metadata: dict[str, Any] | None = None,
) -> list[tuple[str, list[Any]]]:
    """The INSERTs of the conversation (when new) and the user's message."""
    assert conversation.tenant_id == tenant.id
    msg = Message(
        id=user_message_id,
        tenant=tenant,
        conversation=conversation,
        bot_id=conversation.bot_id,
        role=Message.Role.USER,
        content=content,
        metadata=metadata or {},
    )
    statements = [(_insert_sql(Message), _insert_params(msg))]
    if new_conversation:
        statements.insert(0, (_insert_sql(Conversation), _insert_params(conversation)))
    return statements


def chat_start_write(**kwargs: Any) -> None:
    """The conversation (when new) and the user's message, in one round trip
    (``chat_start_statements``' arguments)."""
    _execute(chat_start_statements(**kwargs))


def message_create_user(
    *,
    tenant: Tenant,
    conversation: Conversation,
    content: str,
    metadata: dict[str, Any] | None = None,
) -> Message:
    assert conversation.tenant_id == tenant.id
    return Message.objects.create(
        tenant=tenant,
        conversation=conversation,
        bot_id=conversation.bot_id,
        role=Message.Role.USER,
        content=content,
        metadata=metadata or {},
    )


def message_save_assistant(
    *,
    tenant: Tenant,
    conversation: Conversation,
    message_id: uuid.UUID,
    content: str,
    citations: list[dict[str, Any]],
    usage: dict[str, int],
    latency_ms: int,
    model: str,
    finish_reason: str,
    refused: bool = False,
    refusal_reason: str = "",
    error: str = "",
    messages_added: int = 2,
    before: list[tuple[str, list[Any]]] | None = None,
) -> None:
    """Store the assistant's answer (whatever its outcome) and bump the conversation, in one
    round trip (one transaction). ``before``: statements to run first in that transaction
    (``chat_start_statements`` when the chat ended before its start was written)."""
    assert conversation.tenant_id == tenant.id
    msg = Message(
        id=message_id,
        tenant=tenant,
        conversation=conversation,
        bot_id=conversation.bot_id,
        role=Message.Role.ASSISTANT,
        content=content,
        citations=citations,
        prompt_tokens=usage.get("prompt_tokens", 0),
        completion_tokens=usage.get("completion_tokens", 0),
        total_tokens=usage.get("total_tokens", 0),
        latency_ms=max(0, int(latency_ms)),
        model=model[:100],
        finish_reason=finish_reason,
        refused=refused,
        refusal_reason=refusal_reason,
        error=error,
    )
    bump = (
        f'UPDATE "{Conversation._meta.db_table}" SET message_count = message_count + %s, '  # noqa: S608
        "updated_at = %s WHERE id = %s AND tenant_id = %s"
    )
    _execute(
        [
            *(before or []),
            (_insert_sql(Message), _insert_params(msg)),
            (bump, [messages_added, timezone.now(), conversation.pk, tenant.id]),
        ]
    )


def message_feedback(
    *, tenant: Tenant, message: Message, rating: str, comment: str = ""
) -> Message:
    assert message.tenant_id == tenant.id
    if rating not in Message.Rating.values:
        raise APIError('rating must be "up" or "down".')
    if message.role != Message.Role.ASSISTANT:
        raise APIError("Feedback applies to assistant messages only.")
    message.feedback_rating = rating
    message.feedback_comment = (comment or "")[:5000]
    message.feedback_at = timezone.now()
    return _save_feedback(message)


def message_feedback_clear(*, tenant: Tenant, message: Message) -> Message:
    """Withdraw the end user's rating (DELETE /v1/messages/{id}/feedback): the answer is unrated
    again, so GET /v1/usage, ?rating= and the admin no longer count it. Clearing an unrated
    answer changes nothing."""
    assert message.tenant_id == tenant.id
    if message.role != Message.Role.ASSISTANT:
        raise APIError("Feedback applies to assistant messages only.")
    message.feedback_rating = ""
    message.feedback_comment = ""
    message.feedback_at = None
    return _save_feedback(message)


def _save_feedback(message: Message) -> Message:
    try:
        message.save(
            update_fields=["feedback_rating", "feedback_comment", "feedback_at", "updated_at"]
        )
    except DatabaseError as exc:
        if type(exc) is not DatabaseError:  # (OperationalError & co: a 503)
            raise
        # Its conversation was deleted since the message was read: no row to update (a 500).
        raise NotFound("No such message, or it is not visible to this credential.") from None
    return message


def conversation_delete(*, tenant: Tenant, conversation: Conversation) -> None:
    """Delete one conversation, recorded as ``conversation.delete`` (``conversations.erasure``)."""
    from conversations.erasure import conversations_delete_recorded

    assert conversation.tenant_id == tenant.id
    conversations_delete_recorded(
        Conversation.objects.for_tenant(tenant).filter(pk=conversation.pk)
    )


def conversations_delete(conversations: QuerySet[Conversation]) -> dict[str, int]:
    """Delete ``conversations`` and their messages, keeping what the messages counted in
    GET /v1/usage (``UsageArchive``, summed in the same transaction, of exactly the rows
    deleted: they are locked first). Every deleting path (the API, ``purge_conversations``, the
    admin) goes through here. Returns Django's deleted-row counts per model label."""
    with transaction.atomic():
        ids = list(conversations.select_for_update().values_list("pk", flat=True))
        archive_usage(Message.objects.filter(conversation_id__in=ids))
        return Conversation.objects.filter(pk__in=ids).delete()[1]


def conversations_delete_batched(
    conversations: QuerySet[Conversation],
    *,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
    deleted: list[int] | None = None,
) -> tuple[int, int]:
    """Delete ``conversations`` ``batch`` at a time, each batch its own transaction through
    ``conversations_delete`` (usage kept, rows re-checked under their locks): one delete of every
    match loaded them all into memory and held their locks until the end. ``progress(n)`` after
    each batch. Returns how many conversations and messages went; ``deleted`` (``[0, 0]``) is
    kept up to date after each batch, for a caller to know what went when a later one fails."""
    deleted = [0, 0] if deleted is None else deleted
    while ids := list(conversations.values_list("pk", flat=True)[:batch]):
        counts = conversations_delete(conversations.filter(pk__in=ids))
        deleted[0] += counts.get(Conversation._meta.label, 0)
        deleted[1] += counts.get(Message._meta.label, 0)
        if progress is not None:
            progress(len(ids))
    return deleted[0], deleted[1]


def conversation_detach_bot(*, tenant: Tenant, bot: Bot) -> None:
    """Before ``bot`` is deleted: its conversations keep its current slug (``bot_slug``) and,
    with their messages, stop pointing at it. (Deleting the bot would set ``bot`` NULL anyway,
    on_delete=SET_NULL; this also records the slug it has now, if renamed since.) ``updated_at``
    is left alone: nothing happened in these conversations."""
    assert bot.tenant_id == tenant.id
    Conversation.objects.for_tenant(tenant).filter(bot=bot).update(bot=None, bot_slug=bot.slug)
    Message.objects.for_tenant(tenant).filter(bot=bot).update(bot=None)
    UsageArchive.objects.for_tenant(tenant).filter(bot=bot).update(bot=None, bot_slug=bot.slug)
