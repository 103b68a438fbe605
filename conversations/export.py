"""Reads for ``manage.py export_conversations`` (an end user's right of access): a tenant's
conversations with their messages, as JSON-ready dicts, a batch at a time so an export of a
tenant with 100,000 messages never holds them all.

One conversation per dict, in the order they started, with stable keys (README, "End users'
data"): the API's conversation fields (``GET /v1/conversations/{id}``) plus ``metadata``, and
under ``messages`` the API's message fields plus ``metadata``, oldest first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from conversations.models import Conversation, Message
from conversations.serializers import ConversationSerializer, MessageSerializer
from tenants.models import Tenant

BATCH = 100  # conversations read (with their messages) per round


def conversations_to_export(
    *, tenant: Tenant, user: str | None = None, since: datetime | None = None
) -> QuerySet[Conversation]:
    """The tenant's conversations (``user``'s only, when given; active since ``since``, when
    given), oldest first."""
    qs = Conversation.objects.for_tenant(tenant)
    if user is not None:
        qs = qs.filter(user=user)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return qs.order_by("created_at", "id")


def export_rows(
    qs: QuerySet[Conversation], *, batch: int | None = None
) -> Iterator[dict[str, Any]]:
    """Each conversation of ``qs`` (``conversations_to_export``) with its messages. Pages by
    (created_at, id) rather than OFFSET, so each round is an index range whatever its depth, and
    a conversation started meanwhile comes last instead of shifting the pages."""
    batch = batch or BATCH
    after: tuple[datetime, Any] | None = None
    while True:
        page = qs.select_related("bot")
        if after is not None:
            page = page.filter(Q(created_at__gt=after[0]) | Q(created_at=after[0], id__gt=after[1]))
        conversations = list(page[:batch])
        if not conversations:
            return
        yield from _with_messages(conversations)
        after = (conversations[-1].created_at, conversations[-1].id)


def _with_messages(conversations: list[Conversation]) -> Iterator[dict[str, Any]]:
    tenant_id = conversations[0].tenant_id
    by_conversation: dict[Any, list[Message]] = {c.id: [] for c in conversations}
    messages = (
        Message.objects.filter(tenant_id=tenant_id, conversation_id__in=list(by_conversation))
        .order_by("created_at", "id")
        .iterator(chunk_size=2000)
    )
    for message in messages:
        by_conversation[message.conversation_id].append(message)
    for conversation in conversations:
        row = dict(ConversationSerializer(conversation).data)
        row["metadata"] = conversation.metadata
        row["messages"] = [
            {**MessageSerializer(m).data, "metadata": m.metadata}
            for m in by_conversation[conversation.id]
        ]
        yield row
