"""Which error a chat refused twice gets: its conversation locked (``slots``: 409 ``conflict``,
another chat is answering in it) and its preparation failed (``chat_prepare``: the bot, the
conversation's tenant, end user, visibility...). The preparation's wins: the lock told a caller
naming another end user's conversation while it answered that it exists and is in use, where an
unknown id gets a 404 (the lock is taken in Redis beside the preparation, so its 409 came first).

One exception: a new conversation is stored some time into its first answer
(``chat_writes.START_WRITE_DELAY``), so a message its client sends meanwhile finds no such
conversation; the lock's 409 is its answer (as before), not a 404. Told apart by one read, on
this path only: a conversation that is not stored at all, or that this chat may continue (stored
since the preparation looked), is the lock's; one stored that it may not see or continue keeps
the preparation's 404."""

from __future__ import annotations

import asyncio
from typing import Any

from chatbot_project.errors import APIError
from conversations.dbthreads import db_sync
from conversations.slots import ChatSlot


async def unless_locked(
    slot_task: asyncio.Future, context: Any, data: Any, failed: BaseException
) -> ChatSlot | None:
    """The slot ``slot_task`` took (the caller gives it back and raises ``failed``); None when it
    found the conversation locked and ``failed`` is to win. Its other errors (the caps' 429,
    Redis down) are raised, as is its 409 for a conversation still being started."""
    try:
        return await slot_task
    except APIError as exc:
        if exc.status_code != 409:
            raise
        not_found = isinstance(failed, APIError) and failed.status_code == 404
        if not_found and data.conversation_id and not await db_sync(_hidden)(context, data):
            raise
        return None


def _hidden(context: Any, data: Any) -> bool:
    """``data.conversation_id`` is stored and not this chat's to continue."""
    from conversations import selectors
    from conversations.models import Conversation

    try:
        conv = selectors.conversation_get(
            tenant=context.tenant, conversation_id=data.conversation_id, context=context
        )
    except APIError:  # not visible to this credential, or not stored (yet)
        return Conversation.objects.filter(
            tenant_id=context.tenant.id, id=data.conversation_id
        ).exists()
    browser = bool(context.allowed_origins)  # as selectors.conversation_to_continue decides
    return bool(data.user or browser) and conv.user != data.user
