"""The lean async HTTP path for chat: ``POST /v1/chat`` (JSON or SSE).

Not DRF: one thread hop to authenticate and one to prepare (``conversations.chat.prepare_chat``),
then the event stream runs on the event loop; the assistant message is written once at the end.
A client that goes away cancels the response task: ``run_chat`` sees ``CancelledError`` (or
``GeneratorExit``), closes the upstream request and saves the partial answer as ``cancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import Future
from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from chatbot_project.errors import APIError, error_body
from chatbot_project.lean import lean_async
from conversations import chat_writes
from conversations.chat import (
    ChatInput,
    PreparedChat,
    collect,
    prepare_chat,
    run_chat,
)
from conversations.dbthreads import db_sync
from conversations.lock_order import unless_locked
from conversations.slots import (
    ChatSlot,
    acquire_stream_slot,
    release_stream_slot,
    release_stream_slot_sync,
    visitor_of,
)
from datasets import query_embeddings
from tenants.context import AuthContext

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_headers() -> dict[str, str]:
    """SSE_HEADERS and the keep-alive interval (a few of them silent: the widget gives up)."""
    return {**SSE_HEADERS, "X-SSE-Ping-Seconds": f"{settings.SSE_PING_SECONDS or 0:g}"}


def error_json(exc: APIError, **extra: Any) -> JsonResponse:
    """API.md's error body for ``exc``; ``extra`` joins its ``error`` object (OpenAI's fields)."""
    body = error_body(exc.type, str(exc.detail), exc.details)
    body["error"].update(extra)
    response = JsonResponse(body, status=exc.status_code)
    for name, value in (exc.headers or {}).items():
        response[name] = value
    return response


def parse_json(request: HttpRequest) -> Any:
    content_type = request.content_type or ""
    if content_type and content_type != "application/json":
        raise APIError(
            "Send the request body as JSON (Content-Type: application/json).",
            type="unsupported_media_type", status_code=415,
        )  # fmt: skip
    from django.core.exceptions import RequestDataTooBig

    from chatbot_project.errors import too_large_message
    from chatbot_project.jsonbody import BadJSON, loads

    try:
        return loads(request.body or b"null")
    except BadJSON as exc:
        raise APIError(str(exc)) from None
    except RequestDataTooBig as exc:  # (DEBUG answered it with Django's page: a bare 400)
        raise APIError(
            str(too_large_message(exc)), type="payload_too_large", status_code=413
        ) from None


def _authenticate(headers: Any) -> AuthContext:
    from tenants.auth import auth_failed, authenticate

    context = authenticate(headers)
    if context is None:
        raise auth_failed("Authentication required: send an API key (Authorization: Bearer <key>).")
    return context


async def _identify(request: HttpRequest, permission: str) -> AuthContext:
    from tenants.auth import authenticate_cached

    headers = dict(request.headers)
    context = authenticate_cached(headers) or await db_sync(_authenticate)(headers)
    request.tenant = context.tenant  # type: ignore[attr-defined]
    request.auth_context = context  # type: ignore[attr-defined]
    if not context.has(permission):
        raise APIError(
            f"This credential lacks the `{permission}` permission this route needs.",
            type="permission_denied", status_code=403,
        )  # fmt: skip
    return context


async def _rate_limit(request: Any, context: AuthContext) -> None:
    try:
        from apikeys.ratelimit import ahit, rate_limited_error
    except ImportError:  # pragma: no cover - the access app ships it
        return
    decision = await ahit(context, bucket="api")
    request.rate_limit_decision = decision  # type: ignore[attr-defined]
    if not decision.allowed:
        raise rate_limited_error(decision)


async def authenticate_request(request: HttpRequest, *, permission: str = "chat") -> AuthContext:
    """The caller's context (one thread hop unless cached), its permission and its rate limit."""
    context = await _identify(request, permission)
    await _rate_limit(request, context)
    return context


async def authenticate_and_embed(
    request: HttpRequest, question: str | None
) -> tuple[AuthContext, Future | None]:
    """``authenticate_request`` for a route that embeds ``question`` (None: it does not): the
    question's cache lookup (one GET on the loop's Redis client) runs beside the rate-limit
    hit, and a miss starts the embedding once the request is allowed, so it computes while
    the bot is read. Nothing is looked up before the caller is authenticated."""
    context = await _identify(request, "chat")
    return context, await limit_and_embed(request, context, question)


async def limit_and_embed(
    request: Any, context: AuthContext, question: str | None
) -> Future | None:
    """The rate-limit hit (its decision left on ``request``, a Django request or a
    ``fastlane.FastRequest``) and ``question``'s embedding-cache read in the same Redis command;
    returns the embedding started (None without a question). A browser visitor's own limit
    is checked first: a request it refuses does not spend the site key's allowance."""
    visitor = await visitor_limit(context, _origin(request), _address(request))
    tenant_id = context.tenant.id
    key = query_embeddings.ready_key(question, tenant_id) if question else None
    if key is None:  # no question, or the embedder not built yet (the embed thread looks up)
        await _rate_limit(request, context)
        raw = None
    else:
        from apikeys.ratelimit import ahit_and_get, rate_limited_error

        # One Redis command for both (a chat's Redis writes were a visible share of the event
        # loop's time at 100 new chats/s: bench/README.md, "Capacity").
        decision, raw = await ahit_and_get(context, key)
        request.rate_limit_decision = decision
        if not decision.allowed:
            raise rate_limited_error(decision)
    if visitor is not None:
        # A site visitor's X-RateLimit-* describe its own allowance: the key's remaining count
        # told every visitor how busy the site was (the key's own 429 still describes the key).
        request.rate_limit_decision = visitor
    if not question:
        return None
    return query_embeddings.after_lookup(question, key, raw, tenant_id=tenant_id)


def _origin(request: Any) -> str:
    headers = request.headers
    return headers.get("origin", "") or headers.get("Origin", "")


def _address(request: Any) -> str:
    meta = getattr(request, "META", None)  # a Django request; the fast lane sees no Origin
    return (meta or {}).get("REMOTE_ADDR", "") or ""


def request_visitor(request: Any, context: AuthContext) -> str:
    """The visitor an HTTP chat is counted for within a browser key (``slots.visitor_of``)."""
    return visitor_of(context, _origin(request), _address(request))


async def visitor_limit(context: AuthContext, origin: str, address: str) -> Any:
    """``VISITOR_RATE_LIMIT`` per visitor (client address) on a browser key's chats, on top of
    the key's own limit, which every visitor of a site shares: one visitor could spend the
    whole site's allowance. Checked before the key's limit (so that a refused request is not
    counted for the site). Keys with ``allowed_origins`` only (``slots.visitor_of``), with or
    without an ``Origin``; server-side keys have their own limit alone. Returns the visitor's
    decision (None when not counted per visitor)."""
    limit = settings.VISITOR_RATE_LIMIT
    visitor = visitor_of(context, origin, address)
    if not (limit and visitor):
        return None
    from apikeys.ratelimit import ahit, rate_limited_error

    decision = await ahit(context, bucket="visitor", identity=visitor, limit=limit)
    if not decision.allowed:
        raise rate_limited_error(decision, "one visitor of this site")
    return decision


def _with_rate_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The key's X-RateLimit-* on ``response``, unless it has its own: a refusal by another
    limit (a visitor's 429) describes that limit, as on the fast lane and the DRF routes."""
    decision = getattr(request, "rate_limit_decision", None)
    if decision is not None:
        for name, value in (
            ("X-RateLimit-Limit", str(decision.limit)),
            ("X-RateLimit-Remaining", str(decision.remaining)),
        ):
            if name not in response:
                response[name] = value
    return response


_compact_json = json.JSONEncoder(separators=(",", ":")).encode
_json_str = json.encoder.encode_basestring_ascii  # what json.dumps uses for a str


def sse(event: str, data: Any) -> bytes:
    """One SSE event, its data as compact JSON. The per-token ``delta`` takes a direct path
    (same bytes): ``json.dumps`` with separators builds an encoder per call, which was ~5% of
    a streaming chat's CPU."""
    if event == "delta" and len(data) == 1 and type(data.get("text")) is str:
        return b'event: delta\ndata: {"text":' + _json_str(data["text"]).encode() + b"}\n\n"
    return f"event: {event}\ndata: {_compact_json(data)}\n\n".encode()


async def sse_stream(prep: PreparedChat, slot: ChatSlot | None = None) -> AsyncIterator[bytes]:
    """The chat as SSE bytes; gives the chat slot back however the stream ends."""
    # Django does not close the iterator it streams from (it is finalised when dropped), so
    # each layer closes the one below it explicitly: cleanup order never depends on the GC.
    prep.streaming = True
    events = run_chat(prep, ping_seconds=settings.SSE_PING_SECONDS)
    try:
        async with contextlib.aclosing(events):
            async for event, data in events:
                yield b": ping\n\n" if event == "ping" else sse(event, data)
    finally:
        await asyncio.shield(release_stream_slot(prep.context, slot))


def wants_stream(accept: str, payload: Any) -> bool:
    """SSE or JSON (the fast lane and the Django view both ask here): an explicit ``"stream"``
    in the body decides (``false`` is JSON even with ``Accept: text/event-stream``, which
    used to win); without it the ``Accept`` header does."""
    if isinstance(payload, dict) and "stream" in payload:
        return payload["stream"] is True
    return "text/event-stream" in accept.lower()  # (media types ignore case)


class SSEResponse(StreamingHttpResponse):
    """A streaming response whose parts are already bytes: the ASGI handler iterates the body
    itself, without Django's two per-part wrappers (``__aiter__`` over ``streaming_content``,
    which re-yields every part through ``make_bytes``) - one SSE chunk per token makes them a
    measurable share of the relay's CPU. A middleware that replaces ``streaming_content`` is
    still honoured (its iterator is what is returned)."""

    def __aiter__(self) -> AsyncIterator[bytes]:  # type: ignore[override]
        if self.is_async:
            return self._iterator
        return super().__aiter__()


def streaming_response(
    body: AsyncIterator[bytes],
    request: HttpRequest,
    *,
    prep: PreparedChat | None = None,
    slot: ChatSlot | None = None,
) -> StreamingHttpResponse:
    """``body`` as an SSE response. With the chat's ``prep`` and ``slot`` (which ``body``
    gives back once it has begun, its generator's ``finally``): a client gone before Django
    began the body leaves that generator unrun, but Django still closes the response; the chat
    is then stored as cancelled and the slot given back (it used to be held until
    ``STREAM_SLOT_TTL``, and the question was lost)."""
    response = SSEResponse(body, content_type="text/event-stream; charset=utf-8")
    if prep is not None:
        response._resource_closers.append(partial(_release_unstreamed, prep, slot))
    for name, value in sse_headers().items():
        response[name] = value
    _with_rate_headers(request, response)
    return response


def _release_unstreamed(prep: PreparedChat, slot: ChatSlot | None) -> None:
    if not prep.streaming:
        chat_writes.store_unstarted_sync(prep)  # before the conversation's lock goes
        release_stream_slot_sync(prep.context, slot)


@lean_async
@csrf_exempt
async def chat_view(request: HttpRequest) -> HttpResponse:
    started = time.perf_counter()
    if request.method != "POST":
        return error_json(
            APIError("Use POST for /v1/chat.", status_code=405, headers={"Allow": "POST"})
        )
    try:
        try:  # parsed first for the question's cache lookup; errors count after authentication
            payload, bad = parse_json(request), None
            data = ChatInput.from_payload(payload)
        except APIError as exc:
            data, bad = None, exc
        question = data.message.strip() if data is not None else None
        context, embedding = await authenticate_and_embed(request, question)
        if bad is not None:
            raise bad
        assert data is not None
        stream = wants_stream(request.headers.get("Accept", ""), payload)
        visitor = request_visitor(request, context)
        prep, slot = await start_chat(context, data, embedding, started, visitor=visitor)
    except APIError as exc:
        return _with_rate_headers(request, error_json(exc))
    if stream:
        return streaming_response(sse_stream(prep, slot), request, prep=prep, slot=slot)
    try:
        body = await collect(prep)
    except APIError as exc:
        return _with_rate_headers(request, error_json(exc))
    finally:
        await release_stream_slot(context, slot)
    return _with_rate_headers(request, JsonResponse(body))


async def start_chat(
    context: AuthContext,
    data: ChatInput,
    embedding: Future | None,
    started: float,
    *,
    visitor: str = "",
) -> tuple[PreparedChat, ChatSlot | None]:
    """The chat slot (also counted for a browser key's ``visitor``: ``slots.visitor_of``) and
    its conversation's lock taken (Redis) while the chat is prepared in a DB thread (a cap's
    429 wins over the chat's own error, which wins over the lock's 409); on any error the slot
    is given back.
    Returns (prepared chat, slot): the caller streams it (``sse_stream`` gives the slot back) or
    collects it and gives the slot back itself. A caller cancelled meanwhile (its client left)
    does not stop the preparation: the chat is then stored as cancelled (``_cut_short``)."""
    # A new conversation's id is chosen here so that it is locked in the same Redis call: a
    # client learns it from `start` and may send its next message while this one streams.
    new_id = None if data.conversation_id else uuid.uuid4()
    slot_task = asyncio.ensure_future(
        acquire_stream_slot(context, data.conversation_id or new_id, visitor=visitor)
    )
    prep_task = asyncio.ensure_future(
        db_sync(prepare_chat)(
            context, data, started=started, embedding=embedding, new_conversation_id=new_id
        )
    )
    try:
        prep = await asyncio.shield(prep_task)
    except asyncio.CancelledError:
        chat_writes.in_background(_cut_short(context, prep_task, slot_task))
        raise
    except BaseException as failed:  # the slot's error wins (a cap's 429), its lock's 409
        slot = await unless_locked(slot_task, context, data, failed)  # not always (lock_order)
        await asyncio.shield(release_stream_slot(context, slot))
        raise
    try:
        slot = await asyncio.shield(slot_task)
    except asyncio.CancelledError:
        chat_writes.in_background(_cut_short(context, prep_task, slot_task))
        raise
    return prep, slot


async def _cut_short(
    context: AuthContext, prep_task: asyncio.Future, slot_task: asyncio.Future
) -> None:
    """The client left while its chat was being started: once prepared, the chat is stored as
    cancelled (the question is not lost), then its slot and lock are given back. A chat
    refused its slot (429, 409) or that failed to prepare stores nothing."""
    try:
        slot = await slot_task
    except BaseException:
        with contextlib.suppress(BaseException):
            await prep_task
        return
    try:
        prep = await prep_task
    except BaseException:
        await release_stream_slot(context, slot)
        return
    await finish_unrun(prep, slot)


async def finish_unrun(prep: PreparedChat, slot: ChatSlot | None) -> None:
    """A chat's end on a path that may not have run it: stored as cancelled if ``run_chat``
    never began it (else ``run_chat`` stored it), then its slot and conversation lock given
    back (after the store: the next message's history holds this turn)."""
    await chat_writes.stored_unstarted(prep)
    await release_stream_slot(prep.context, slot)
