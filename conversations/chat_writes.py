"""The chat's writes, off the event loop on the writes' DB threads (``dbthreads.db_write``):
the conversation and the user's message ``START_WRITE_DELAY`` into the chat, the assistant's
answer once at its end (``chat.run_chat`` decides when)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError

from bots.selectors import bot_exists
from chatbot_project.jsonbody import storable
from conversations import services
from conversations.dbthreads import db_write

if TYPE_CHECKING:
    from conversations.chat import PreparedChat

log = logging.getLogger("chatbot.chat")


def start_kwargs(prep: PreparedChat) -> dict[str, Any]:
    """The conversation (when new) and the user's message."""
    return dict(
        tenant=prep.context.tenant,
        conversation=prep.conversation,
        new_conversation=prep.new_conversation,
        user_message_id=prep.user_message_id,
        content=prep.question,
        metadata=prep.user_metadata,
    )


def write_start(prep: PreparedChat) -> None:
    _even_if_bot_deleted(prep, lambda: services.chat_start_write(**start_kwargs(prep)))


def save(prep: PreparedChat, with_start: bool = False) -> None:
    """The answer; ``with_start``: the start too, in the same transaction."""
    _even_if_bot_deleted(prep, lambda: _save(prep, with_start))


def _even_if_bot_deleted(prep: PreparedChat, write: Callable[[], None]) -> None:
    """``write()``; when it fails because the chat's bot was deleted meanwhile (the foreign key
    to it, checked at commit, no longer holds), ``write()`` again with the conversation
    detached from the bot, as the deletion left the bot's other conversations (bot NULL,
    ``bot_slug`` kept): the turn is stored and its usage counted, and the client gets ``end``.
    Any other failure (the conversation deleted: ``unsaved_error``) is raised."""
    try:
        write()
    except IntegrityError:
        bot_id = prep.conversation.bot_id
        if bot_id is None or bot_exists(tenant=prep.context.tenant, bot_id=bot_id):
            raise
        log.info("bot %s was deleted during chat %s: stored without it", bot_id, prep.message_id)
        prep.conversation.bot = None
        write()


def _save(prep: PreparedChat, with_start: bool) -> None:
    before = services.chat_start_statements(**start_kwargs(prep)) if with_start else None
    services.message_save_assistant(
        tenant=prep.context.tenant,
        conversation=prep.conversation,
        message_id=prep.message_id,
        content=storable(prep.answer),  # the model may send NUL: saved without it, not lost
        citations=prep.citations if prep.refusal is None else [],
        usage=prep.usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        latency_ms=prep.latency_ms,
        model=prep.model if prep.refusal is None else "",
        finish_reason=prep.finish_reason,
        refused=prep.refused,
        refusal_reason=prep.refusal_reason if prep.refusal is not None else "",
        error=(prep.error or {}).get("type", ""),
        before=before,
    )


async def settle(saving: asyncio.Future, prep: PreparedChat) -> BaseException | None:
    """Wait for the answer's save. Shielded: a cancellation must not lose the message (it
    still completes; the caller's CancelledError propagates). A failure is logged and returned
    (not raised: the chat's events are on their way; ``unsaved_error`` words it for the
    client), None when the answer is stored."""
    try:
        await asyncio.shield(saving)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("could not save the assistant message %s", prep.message_id)
        return exc
    return None


def turn_ids(prep: PreparedChat) -> dict[str, str] | None:
    """What a JSON chat's error names in its ``details`` (``chat.collect``): the turn stored
    with that error (``prep.error``, set before the save), as SSE's ``start`` event gives its
    ids. None after an ``unsaved_error`` (``prep.error`` unset: the conversation deleted
    meanwhile, or the save failed), whose ids named an answer that is not there."""
    if prep.error is None:
        return None
    return {"conversation_id": str(prep.conversation.id), "message_id": str(prep.message_id)}


def unsaved_error(exc: BaseException) -> dict[str, str]:
    """The ``error`` event for an answer that could not be stored (sent instead of ``end``,
    which promises the answer is in the conversation)."""
    import psycopg
    from django.db import IntegrityError

    if isinstance(exc, IntegrityError | psycopg.IntegrityError):
        return {
            "type": "conflict",
            "message": "The conversation was deleted while this answer was written, so the "
            "answer was not stored.",
        }  # fmt: skip
    return {
        "type": "internal_error",
        "message": "The answer could not be stored; the error has been logged.",
    }


def estimated_usage(prep: PreparedChat) -> dict[str, int]:
    """Usage for an answer the model did not report usage for (cut short: cancelled, key
    revoked, upstream failure mid-stream): counted on our side, so tokens the provider bills
    are not recorded as 0. Refusals never called the model: 0."""
    if prep.refusal is not None or not prep.messages:
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    from conversations.prompting import count_tokens

    prompt = sum(count_tokens(m.get("content") or "") for m in prep.messages)
    completion = count_tokens(prep.answer) if prep.answer else 0
    return {
        "prompt_tokens": prompt, "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }  # fmt: skip


START_WRITE_DELAY = 0.05


async def write_start_soon(prep: PreparedChat, ended: asyncio.Event) -> bool:
    """The start writes (conversation, user message) ``START_WRITE_DELAY`` s into the chat,
    so that a long answer's question is stored while it streams. Returns False, having
    written nothing, when the chat ended before that: the answer's transaction then writes
    the start too (one commit instead of two, and nothing in a DB thread while the first
    token is awaited: that made it wait for the GIL, ~1-3 ms of the added time to it)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(START_WRITE_DELAY):
            await ended.wait()
    if ended.is_set():
        return False
    await db_write(write_start)(prep)
    return True


async def finish_writes(start_writes: asyncio.Future, prep: PreparedChat) -> None:
    started = await start_writes  # the conversation row must exist before the answer's
    await db_write(save)(prep, not started)


# ------------------------------------------------------------------ chats that never ran
# ``run_chat`` stores every chat it runs. A chat prepared but never run (its client left while
# it was prepared, or before its stream's body began) is stored here instead: the
# conversation (when new), the question and an empty ``cancelled`` answer, in one transaction.
_background: set[asyncio.Future] = set()  # saves nobody awaits, referenced until done


def _claim_unstarted(prep: PreparedChat) -> bool:
    """True (and the chat marked as stored by its caller) if ``run_chat`` never began it."""
    if prep.claimed:
        return False
    prep.claimed = True
    prep.answer = ""
    prep.finish_reason = "cancelled"
    prep.latency_ms = int((time.perf_counter() - prep.started) * 1000)
    return True


def store_unstarted(prep: PreparedChat) -> asyncio.Future | None:
    """Store ``prep`` as a chat cut short before it began (no-op once ``run_chat`` has it).
    Returns the save (running on its own: awaiting it is optional, cancelling the caller
    does not stop it)."""
    if not _claim_unstarted(prep):
        return None
    saving = in_background(db_write(save)(prep, True))
    saving.add_done_callback(_saved_in_background)
    return saving


async def stored_unstarted(prep: PreparedChat) -> None:
    """``store_unstarted``, waited for (a failure is logged, not raised)."""
    saving = store_unstarted(prep)
    if saving is not None:
        with contextlib.suppress(Exception):
            await saving


def store_unstarted_sync(prep: PreparedChat) -> None:
    """``store_unstarted`` from a thread (the closers of a response whose body never began)."""
    if _claim_unstarted(prep):
        try:
            save(prep, True)
        except Exception:
            log.exception("could not save the cancelled chat %s", prep.message_id)


def _saved_in_background(saving: asyncio.Future) -> None:
    if not saving.cancelled() and saving.exception() is not None:
        log.error("could not save a cancelled chat", exc_info=saving.exception())


def in_background(work: Awaitable[Any]) -> asyncio.Future:
    """Run ``work`` on its own (a client that left cancels its request's task, not this),
    referenced until done."""
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task
