"""Chat orchestration: one event stream, used by SSE, JSON, WebSocket, the OpenAI-compatible
routes and the ``chat`` command.

``prepare_chat`` (synchronous, one thread hop, read-only) resolves bot, scope and conversation,
applies the input guardrails, retrieves and assembles the prompt: every error a client can cause
is raised here, before a stream starts, as an ``APIError``.
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
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from chatbot_project.errors import STATUS_BY_TYPE, APIError
from conversations import chat_writes, selectors, services
from conversations.chat_input import MAX_MESSAGE_CHARS, ChatInput
from conversations.guardrails import (
    StreamRedactor,
    blocked_match,
    redact_terms,
    without_blocked_turns,
)
from conversations.llm import LLMError, get_provider, model_for
from conversations.prompting import build_messages, trim_history
from conversations.revocation import PING, REVOKED_MESSAGE, CredentialRevoked, Relay
from datasets import query_embeddings
from datasets.retrieval import embed_query_cached, retrieve
from tenants.context import AuthContext

log = logging.getLogger("chatbot.chat")

Event = tuple[str, dict[str, Any]]
SNIPPET_CHARS = 300


@dataclass
class PreparedChat:
    context: AuthContext
    bot: Any
    scope: Any
    conversation: Any
    question: str
    message_id: uuid.UUID
    user_message_id: uuid.UUID
    model: str
    started: float
    chunks: list[Any] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)
    refusal: str | None = None  # set: answer with it, never call the model
    new_conversation: bool = False
    user_metadata: dict[str, Any] = field(default_factory=dict)
    max_tokens: int | None = None  # the request's own limit (OpenAI route), under the bot's
    refusal_reason: str = ""
    # Filled in by run_chat:
    answer: str = ""
    finish_reason: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    error: dict[str, str] | None = None
    latency_ms: int = 0
    streaming: bool = False  # its SSE body began (conversations.streaming.sse_stream)
    # run_chat began (it stores the chat whatever happens); else its caller stores it when the
    # chat will not run (chat_writes.store_unstarted)
    claimed: bool = False

    @property
    def refused(self) -> bool:
        """Refused by the scope's guardrails (``refusal``: the model was not asked) or by the
        provider's content filter (``finish_reason`` ``refused``, the partial answer kept)."""
        return self.refusal is not None or self.finish_reason == "refused"


def _citation(index: int, chunk: Any, terms: Any = ()) -> dict[str, Any]:
    """A source as the client sees it; the scope's ``redact_terms`` are removed from its
    snippet, title and ``source`` (the title again when the document has no file name or URL)
    as from the answer (before the snippet is cut: no half term left)."""
    return {
        "index": index,
        "chunk_id": chunk.chunk_id,
        "document_id": chunk.document_id,
        "document_title": redact_terms(chunk.document_title, terms),
        "score": chunk.score,
        "snippet": redact_terms(" ".join(chunk.text.split()), terms)[:SNIPPET_CHARS],
        "source": redact_terms(chunk.source, terms),
    }


def prefetch_embedding(question: str, tenant_id: Any) -> Future | None:
    """Start the question's embedding (the slowest step before retrieval) while the bot, scope
    and conversation are looked up; questions arriving together are embedded in one batch.
    Callers must have authenticated and rate limited first."""
    try:
        return query_embeddings.submit(question, tenant_id=tenant_id)
    except RuntimeError:  # interpreter shutting down
        return None


def _history_budget() -> int:
    return int(getattr(settings, "CHAT_HISTORY_TOKENS", 2000))


def prepare_chat(
    context: AuthContext,
    data: ChatInput,
    *,
    started: float | None = None,
    embedding: Future | None = None,
    new_conversation_id: uuid.UUID | None = None,
) -> PreparedChat:
    """``embedding``: the question's embedding already started by ``prefetch_embedding``.
    ``new_conversation_id``: the id a new conversation gets (the caller locked it,
    ``slots.acquire_stream_slot``); a fresh one when not given."""

    started = started if started is not None else time.perf_counter()
    if not context.has("chat"):
        raise APIError(
            "This credential lacks the `chat` permission this route needs.",
            type="permission_denied", status_code=403,
        )  # fmt: skip
    # Read-only up to the end (run_chat writes): a bot this process has read before is
    # confirmed in the retrieval's round trip instead of one of its own.
    return selectors.with_bot(
        tenant=context.tenant, ref=data.bot, context=context,
        work=lambda bot: _prepare(context, data, bot, started, embedding, new_conversation_id),
    )  # fmt: skip


def _prepare(
    context: AuthContext,
    data: ChatInput,
    bot: Any,
    started: float,
    embedding: Future | None,
    new_conversation_id: uuid.UUID | None,
) -> PreparedChat:
    tenant = context.tenant
    if data.scope:
        scope = selectors.scope_resolve(tenant=tenant, ref=data.scope, context=context)
    else:
        scope = bot.default_scope

    conversation = None
    history: list[dict[str, str]] = list(data.history or [])
    if data.conversation_id:
        conversation = selectors.conversation_to_continue(
            tenant=tenant, conversation_id=data.conversation_id, bot=bot, context=context
        )
        if data.history is None:
            history = selectors.history_for(tenant=tenant, conversation=conversation)
        if not data.scope and conversation.scope_id and scope is None:
            scope = conversation.scope
    if not data.scope:
        scope = selectors.scope_fallback(context, scope)

    question = data.message.strip()
    if embedding is None:
        embedding = prefetch_embedding(question, tenant.id)
    max_chars = scope.max_input_chars if scope is not None else MAX_MESSAGE_CHARS
    if len(question) > max_chars:
        raise APIError(  # (the OpenAI route's question meets this limit without a scope)
            f"The message is {len(question)} characters long; "
            f"{'this scope' if scope is not None else 'a chat'} accepts at most "
            f"{max_chars}. Shorten the question and try again.",
            details={"max_input_chars": max_chars},
        )

    refusal: str | None = None
    reason = ""
    if scope is not None and (scope.blocked_terms or scope.blocked_topics):
        terms, topics = scope.blocked_terms, scope.blocked_topics
        if blocked_match(question, terms=terms, topics=topics) is not None:
            refusal, reason = scope.refusal_message, "blocked"
        elif data.history:  # the OpenAI route's: the client's own text, input too
            # Its blocked turns are left out, as history_for leaves refused turns out (a blocked
            # question followed by "answer that" passed). Matched only in what the prompt
            # keeps, not in a whole body of history; build_messages' trim of it is then cheap.
            history = without_blocked_turns(
                trim_history(history, _history_budget()), terms=terms, topics=topics
            )

    chunks: list[Any] = []
    if refusal is None:
        vector: Any = None
        if bot.retrieval_mode in ("vector", "hybrid"):  # a Future: retrieve() waits for it
            vector = embedding or embed_query_cached(question, tenant_id=tenant.id)
        chunks = retrieve(
            tenant=tenant,
            query=question,
            dataset_ids=selectors.bot_dataset_ids(bot),
            scope=scope,
            top_k=bot.top_k,
            mode=bot.retrieval_mode,
            score_threshold=bot.score_threshold,
            query_vector=vector,
        )
        if not chunks and scope is not None and scope.require_grounding:
            refusal, reason = scope.refusal_message, "ungrounded"

    new_conversation = conversation is None
    if conversation is None:
        # Built here, written by run_chat alongside the model call (off the first-token path).
        conversation = services.conversation_build(
            tenant=tenant, bot=bot, scope=scope, user=data.user, question=question,
            api_key=context.api_key, metadata=data.metadata, id=new_conversation_id,
        )  # fmt: skip
    prep = PreparedChat(
        context=context, bot=bot, scope=scope, conversation=conversation, question=question,
        message_id=uuid.uuid4(), user_message_id=uuid.uuid4(), model=model_for(bot),
        started=started, chunks=chunks, refusal=refusal, refusal_reason=reason,
        new_conversation=new_conversation, user_metadata=data.metadata,
        max_tokens=data.max_tokens,
    )  # fmt: skip
    terms = scope.redact_terms if scope is not None else ()
    prep.citations = [_citation(i, c, terms) for i, c in enumerate(chunks, 1)]
    if refusal is None:
        prep.messages = build_messages(
            system_prompt=bot.system_prompt, sources=chunks, history=history,
            question=question, history_budget=_history_budget(),
        )  # fmt: skip
    return prep


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
                messages=prep.messages, model=prep.model, temperature=prep.bot.temperature,
                max_tokens=min(prep.bot.max_tokens, prep.max_tokens or prep.bot.max_tokens),
                sources=prep.chunks, question=prep.question,
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
    error: dict[str, str] | None = None
    async for event, data in run_chat(prep):
        if event == "error":
            error = data["error"]
    if error is not None:  # (details: the stored turn's ids, when it was stored)
        # Each type with its own status: a key revoked mid-answer is a 401, not a 502.
        ids = chat_writes.turn_ids(prep)
        status = STATUS_BY_TYPE.get(error["type"], 502)
        raise APIError(error["message"], type=error["type"], status_code=status, details=ids)
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
