"""Chat orchestration: one event stream, used by SSE, JSON, WebSocket, the OpenAI-compatible
routes and the ``chat`` command.

``prepare_chat`` (``conversations.chat_prepare``, re-exported here; synchronous, one thread hop,
read-only) resolves bot, scope and conversation, applies the input guardrails, retrieves and
assembles the prompt: every error a client can cause is raised there, before a stream starts,
as an ``APIError``.
``run_chat`` (async generator) then yields ``(event, data)`` pairs:
``start`` -> ``citations`` -> ``delta``... -> ``end`` | ``error``. Its writes
(``conversations.chat_writes``): the conversation and the user's message 50 ms in, the assistant
message once whatever happens (complete, refused, upstream failure: before the last event; or
cancelled when the consumer goes away: ``CancelledError``/``GeneratorExit`` -> ``finish_reason``
"cancelled").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from chatbot_project.errors import STATUS_BY_TYPE, APIError
from conversations import chat_writes
from conversations.chat_input import ChatInput
from conversations.chat_prepare import (
    SNIPPET_CHARS,
    PreparedChat,
    prefetch_embedding,
    prepare_chat,
)
from conversations.guardrails import StreamRedactor
from conversations.llm import LLMError, get_provider
from conversations.revocation import PING, REVOKED_MESSAGE, CredentialRevoked, Relay

__all__ = [
    "SNIPPET_CHARS", "ChatInput", "PreparedChat", "collect", "prefetch_embedding",
    "prepare_chat", "run_chat",
]  # fmt: skip

log = logging.getLogger("chatbot.chat")

Event = tuple[str, dict[str, Any]]


async def run_chat(
    prep: PreparedChat, *, ping_seconds: float | None = None
) -> AsyncIterator[Event]:
    """Yield the chat's events; saves the assistant message exactly once. With
    ``ping_seconds``, also ``("ping", {})`` whenever the model is silent for that long.

    The answer is stored before the last event (``end`` or ``error``) goes out: a client that
    saw ``end`` can ask for the conversation, or continue it, and find the answer there (sent
    after it, a follow-up turn could miss it, or 404 on a conversation not yet written, while a
    slow disk held the commit). A chat cut short is stored on its way out."""
    if prep.claimed:  # stored already, as never started (chat_writes.store_unstarted)
        raise RuntimeError("this chat was already stored as cancelled")
    prep.claimed = True
    redactor = StreamRedactor(
        prep.scope.redact_terms if prep.scope is not None else (),
        secret=prep.bot.system_prompt or "",
    )
    parts: list[str] = []
    upstream: Any = None
    relay: Relay | None = None
    ended = asyncio.Event()
    start_writes = asyncio.ensure_future(chat_writes.write_start_soon(prep, ended))
    saving: asyncio.Future | None = None

    def store() -> asyncio.Future:
        """The answer's save (started once, from what the chat has so far)."""
        nonlocal saving
        if saving is None:
            ended.set()  # the start is written now (with the answer, unless it already was)
            prep.answer = "".join(parts)
            if not prep.latency_ms:
                prep.latency_ms = int((time.perf_counter() - prep.started) * 1000)
            if not prep.finish_reason:
                prep.finish_reason = "cancelled"
            if not prep.usage and relay is not None:  # the model was asked but never said
                prep.usage = chat_writes.estimated_usage(prep)
            saving = asyncio.ensure_future(chat_writes.finish_writes(start_writes, prep))
        return saving

    try:
        if prep.refusal is None:
            upstream = get_provider().stream(
                messages=prep.messages, model=prep.model,
                temperature=prep.bot.temperature if prep.temperature is None else prep.temperature,
                max_tokens=min(prep.bot.max_tokens, prep.max_tokens or prep.bot.max_tokens),
                sources=prep.chunks, question=prep.question, sampling=prep.sampling,
            )  # fmt: skip
            relay = Relay(upstream, prep.context, ping_seconds)  # the request goes out now
        yield (
            "start",
            {
                "conversation_id": str(prep.conversation.id),
                "message_id": str(prep.message_id),
                "bot": prep.bot.slug,
            },
        )
        if relay is None:
            assert prep.refusal is not None
            yield "citations", {"citations": []}
            parts.append(prep.refusal)
            yield "delta", {"text": prep.refusal}
            prep.finish_reason = "refused"
        else:
            yield "citations", {"citations": prep.citations}
            try:
                async for piece in relay:
                    if piece is PING:
                        yield "ping", {}
                        continue
                    if piece.text:
                        text = redactor.feed(piece.text)
                        if text:
                            parts.append(text)
                            yield "delta", {"text": text}
                    if piece.finish_reason:
                        prep.finish_reason = piece.finish_reason
                        prep.usage = piece.usage or {}
            except LLMError as exc:
                prep.error = {"type": exc.type, "message": exc.message_for(prep.context)}
                details: dict[str, Any] = {}  # passed on (``collect``: as HTTP headers too)
                if exc.retry_after:  # the provider's own wait (its Retry-After)
                    details["retry_after"] = exc.retry_after
                if not exc.retryable:  # it refused the request itself: asking again cannot help
                    details["retryable"] = False
                if details:
                    prep.error["details"] = details
                prep.finish_reason = "error"
            except CredentialRevoked:
                prep.error = {"type": "authentication_failed", "message": REVOKED_MESSAGE}
                prep.finish_reason = "error"
            tail = redactor.flush()
            if tail:
                parts.append(tail)
                if prep.error is None:
                    yield "delta", {"text": tail}
            if prep.error is not None:
                await chat_writes.settle(store(), prep)
                yield "error", {"error": prep.error}
                return
        prep.finish_reason = prep.finish_reason or "stop"
        prep.latency_ms = int((time.perf_counter() - prep.started) * 1000)
        failed = await chat_writes.settle(store(), prep)
        if failed is not None:  # ``end`` would promise an answer the conversation does not hold
            yield "error", {"error": chat_writes.unsaved_error(failed)}
            return
        yield (
            "end",
            {
                "usage": prep.usage
                or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "finish_reason": prep.finish_reason,
                "latency_ms": prep.latency_ms,
                "refused": prep.refused,
                "message_id": str(prep.message_id),
            },
        )
    except (asyncio.CancelledError, GeneratorExit):
        if saving is None:  # (once the save has started, the answer it stores is complete)
            prep.finish_reason = "cancelled"
            tail = redactor.flush()
            if tail:
                parts.append(tail)
        raise
    except Exception as exc:
        # A bug, or a dependency down (the database, Redis): the turn is stored as an error, not
        # as cancelled, and every surface (SSE, WebSocket, OpenAI stream, JSON) gets an
        # ``error`` event worded as the HTTP paths word it (503 ``unavailable`` or 500
        # ``internal_error``) instead of a stream cut without one.
        from chatbot_project.fastlane import internal_error

        log.exception("Chat failed")
        body = internal_error(exc)[1]
        if saving is None:
            prep.finish_reason = "error"
            prep.error = body["error"]
        await chat_writes.settle(store(), prep)
        yield "error", body
    finally:
        ended.set()
        if relay is not None:
            await relay.aclose()
        if upstream is not None:
            with contextlib.suppress(Exception):
                await upstream.aclose()  # closes the upstream HTTP response
        pending = store()
        if not pending.done():  # (a save awaited before the last event is not logged twice)
            await chat_writes.settle(pending, prep)


async def collect(prep: PreparedChat) -> dict[str, Any]:
    """Run the chat to the end and return API.md's JSON body (raises on upstream failure)."""
    error: dict[str, Any] | None = None
    async for event, data in run_chat(prep):
        if event == "error":
            error = data["error"]
    if error is not None:  # (details: the stored turn's ids, when it was stored)
        # Each type with its own status: a key revoked mid-answer is a 401, not a 502.
        status = STATUS_BY_TYPE.get(error["type"], 502)
        details = {**(chat_writes.turn_ids(prep) or {}), **error.get("details", {})}
        wait = details.get("retry_after")  # the model provider's, as HTTP says it
        headers = {"Retry-After": str(wait)} if wait else {}
        if details.get("retryable") is False:  # the openai SDKs then do not retry the 502
            headers["X-Should-Retry"] = "false"
        raise APIError(
            error["message"], type=error["type"], status_code=status, details=details or None,
            headers=headers,
        )  # fmt: skip
    return {
        "conversation_id": str(prep.conversation.id),
        "message_id": str(prep.message_id),
        "answer": prep.answer,
        "citations": prep.citations if prep.refusal is None else [],
        "usage": prep.usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "refused": prep.refused,
        "finish_reason": prep.finish_reason,
        "latency_ms": prep.latency_ms,
        "model": prep.model if prep.refusal is None else "",
    }
