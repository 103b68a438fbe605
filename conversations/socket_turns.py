"""The bookkeeping and events of one chat on a chat socket (``conversations.consumers``): its
cancel state (``Turn``), the ``details`` of an error for a chat that did not start
(``conversation_echo``) and the ``end`` event of a cancelled one (``cancelled_end``)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from conversations.chat import PreparedChat


@dataclass(eq=False)
class Turn:
    """One chat on the socket. A cancel is delivered to its task only while the answer streams
    (``run_chat`` then saves what it has); before that it is only noted here, so that the chat
    is prepared to the end and saved as cancelled (a cancellation thrown into the preparation
    would leave nothing to save, and no event)."""

    task: asyncio.Task | None = None
    cancelled: bool = False
    streaming: bool = False
    ended: bool = False  # its ``end`` or ``error`` event went out: a cancel comes too late
    message_id: str | None = None  # its answer's id (its ``start`` event's), once started

    def cancel(self) -> None:
        if self.cancelled or self.ended:
            return
        self.cancelled = True
        if self.streaming and self.task is not None:
            self.task.cancel()


def conversation_echo(
    content: dict[str, Any], details: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """An error's ``details`` for a chat that did not start: what tells a client which chat it
    was (a chat frame carries no id of its own: API.md, the fields of POST /v1/chat, unknown ones
    refused), the frame's ``conversation_id`` echoed as sent when it is one (a UUID string),
    under the error's own ``details`` (its keys win); None when there is neither."""
    conversation = content.get("conversation_id")
    echo: dict[str, Any] = {}
    if isinstance(conversation, str) and len(conversation) <= 64:
        try:
            uuid.UUID(conversation)
            echo["conversation_id"] = conversation
        except ValueError:
            pass
    return {**echo, **(details or {})} or None


def cancelled_end(prep: PreparedChat) -> dict[str, Any]:
    """The ``end`` event of a cancelled chat; its ``finish_reason`` is the stored one (a cancel
    that lands once the complete answer's save has begun does not change it)."""
    return {
        "type": "end",
        "finish_reason": prep.finish_reason or "cancelled",
        "usage": prep.usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "latency_ms": prep.latency_ms,
        "refused": prep.refusal is not None,
        "message_id": str(prep.message_id),
    }
