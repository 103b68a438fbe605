"""Writes for chat and conversations (keyword-only, ``<entity>_<verb>``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bots.models import Bot, Scope
from chatbot_project.errors import APIError
from conversations.models import Conversation, Message
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
) -> Conversation:
    """An unsaved conversation with its id (chat_start_write inserts it)."""
    return Conversation(
        id=uuid.uuid4(),
        tenant=tenant,
        bot=bot,
        scope=scope,
        user=user or "",
        title=" ".join(question.split())[:80],
        api_key=api_key,
        metadata=metadata or {},
    )


@transaction.atomic
def chat_start_write(
    *,
    tenant: Tenant,
    conversation: Conversation,
    new_conversation: bool,
    user_message_id: uuid.UUID,
    content: str,
    metadata: dict[str, Any] | None = None,
) -> Message:
    assert conversation.tenant_id == tenant.id
    if new_conversation:
        conversation.save(force_insert=True)
    return Message.objects.create(
        id=user_message_id,
        tenant=tenant,
        conversation=conversation,
        bot_id=conversation.bot_id,
        role=Message.Role.USER,
        content=content,
        metadata=metadata or {},
    )


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


@transaction.atomic
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
    error: str = "",
    messages_added: int = 2,
) -> Message:
    """Store the assistant's answer (whatever its outcome) and bump the conversation."""
    assert conversation.tenant_id == tenant.id
    msg = Message.objects.create(
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
        error=error,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + messages_added, updated_at=timezone.now()
    )
    return msg


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
    message.save(update_fields=["feedback_rating", "feedback_comment", "feedback_at", "updated_at"])
    return message


def conversation_delete(*, tenant: Tenant, conversation: Conversation) -> None:
    assert conversation.tenant_id == tenant.id
    conversation.delete()
