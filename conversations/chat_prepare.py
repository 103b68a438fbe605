"""A chat's preparation (``conversations.chat`` runs it): ``prepare_chat`` (synchronous, one
thread hop, read-only) resolves bot, scope and conversation, applies the input guardrails,
retrieves and assembles the prompt into a ``PreparedChat``; every error a client can cause is
raised here, before a stream starts, as an ``APIError``. ``conversations.chat`` re-exports these
names (``from conversations.chat import PreparedChat, prepare_chat`` keeps working)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from chatbot_project.errors import APIError
from conversations import selectors, services
from conversations.chat_input import MAX_MESSAGE_CHARS, ChatInput
from conversations.extractive import followed_query, matched
from conversations.followup import retrieval_query
from conversations.guardrails import blocked_match, redact_terms, without_blocked_turns
from conversations.llm import model_for
from conversations.prompting import build_messages, trim_history
from conversations.refusals import refusal_text
from datasets import query_embeddings
from datasets.retrieval import embed_query_cached, retrieve
from tenants.context import AuthContext

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
    temperature: float | None = None  # the request's own (OpenAI route); None: the bot's
    sampling: dict[str, Any] = field(default_factory=dict)  # the request's top_p, stop... (same)
    refusal_reason: str = ""
    # Filled in by run_chat:
    answer: str = ""
    finish_reason: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    error: dict[str, Any] | None = None  # the error event's body; details when any
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
            tenant=tenant, conversation_id=data.conversation_id, bot=bot, context=context,
            user=data.user,
        )  # fmt: skip
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
            refusal, reason = refusal_text(scope.refusal_message, question), "blocked"
        elif data.history:  # the OpenAI route's: the client's own text, input too
            # Its blocked turns are left out, as history_for leaves refused turns out (a blocked
            # question followed by "answer that" passed). Matched only in what the prompt
            # keeps, not in a whole body of history; build_messages' trim of it is then cheap.
            history = without_blocked_turns(
                trim_history(history, _history_budget()), terms=terms, topics=topics
            )

    chunks: list[Any] = []
    if refusal is None:
        query = retrieval_query(question, history)  # a short follow-up: with what it follows
        vector: Any = None
        if bot.retrieval_mode in ("vector", "hybrid"):  # a Future: retrieve() waits for it
            if query is question:
                vector = embedding or embed_query_cached(question, tenant_id=tenant.id)
            else:
                vector = embed_query_cached(query, tenant_id=tenant.id)
        chunks = retrieve(
            tenant=tenant,
            query=query,
            dataset_ids=selectors.bot_dataset_ids(bot),
            scope=scope,
            top_k=bot.top_k,
            mode=bot.retrieval_mode,
            score_threshold=bot.score_threshold,
            query_vector=vector,
        )
        if not chunks and scope is not None and scope.require_grounding:
            refusal, reason = refusal_text(scope.refusal_message, question), "ungrounded"

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
        max_tokens=data.max_tokens, temperature=data.temperature, sampling=data.sampling,
    )  # fmt: skip
    terms = scope.redact_terms if scope is not None else ()
    prep.citations = [_citation(i, c, terms) for i, c in enumerate(chunks, 1)]
    if refusal is None:
        prep.messages = build_messages(
            system_prompt=bot.system_prompt, sources=chunks, history=history,
            question=question, history_budget=_history_budget(),
        )  # fmt: skip
        if chunks and settings.CHAT_PROVIDER == "extractive":
            _unless_matched(prep)
    return prep


def _unless_matched(prep: PreparedChat) -> None:
    """The offline provider quotes no passage that shares no content word with the question
    (nor, for a short follow-up, with the questions before it, as the prompt holds them):
    it will say it found nothing, so the passages are not cited. Decided here, with the
    provider's own inputs (``extractive.matched``), because the ``citations`` event goes out
    before the answer's first words."""
    followed = followed_query(prep.question, prep.messages)
    if matched(prep.question, prep.chunks, followed) is None:
        prep.chunks, prep.citations = [], []
