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
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from chatbot_project.errors import APIError, error_body
from conversations.chat import (
    ChatInput,
    PreparedChat,
    collect,
    db_sync,
    prepare_chat,
    run_chat,
)
from tenants.context import AuthContext

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def error_json(exc: APIError) -> JsonResponse:
    response = JsonResponse(
        error_body(exc.type, str(exc.detail), exc.details), status=exc.status_code
    )
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
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        raise APIError("The request body is not valid JSON.") from None


def _authenticate(headers: Any) -> AuthContext:
    from tenants.auth import auth_failed, authenticate

    context = authenticate(headers)
    if context is None:
        raise auth_failed("Authentication required: send an API key (Authorization: Bearer <key>).")
    return context


async def authenticate_request(request: HttpRequest, *, permission: str = "chat") -> AuthContext:
    """The caller's context (one thread hop), its permission and its rate limit."""
    context = await db_sync(_authenticate)(dict(request.headers))
    request.tenant = context.tenant  # type: ignore[attr-defined]
    request.auth_context = context  # type: ignore[attr-defined]
    if not context.has(permission):
        raise APIError(
            f"This credential lacks the `{permission}` permission this route needs.",
            type="permission_denied", status_code=403,
        )  # fmt: skip
    try:
        from apikeys.ratelimit import ahit, rate_limited_error
    except ImportError:  # pragma: no cover - the access app ships it
        return context
    decision = await ahit(context, bucket="api")
    request.rate_limit_decision = decision  # type: ignore[attr-defined]
    if not decision.allowed:
        raise rate_limited_error(decision)
    return context


def _with_rate_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    decision = getattr(request, "rate_limit_decision", None)
    if decision is not None:
        response["X-RateLimit-Limit"] = str(decision.limit)
        response["X-RateLimit-Remaining"] = str(decision.remaining)
    return response


async def with_keepalive(events: AsyncIterator[Any], interval: float) -> AsyncIterator[Any]:
    """Yield the events, and None whenever ``interval`` seconds pass without one."""
    iterator = events.__aiter__()
    pending: asyncio.Future | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield None
                continue
            task, pending = pending, None
            try:
                item = task.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            # The consumer left while we waited: cancel the producer where it is, so it can
            # close its upstream and save, and wait for it to finish doing so.
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        with contextlib.suppress(BaseException):
            await iterator.aclose()  # type: ignore[attr-defined]


def sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def sse_stream(prep: PreparedChat) -> AsyncIterator[bytes]:
    # Django does not close the iterator it streams from (it is finalised when dropped), so
    # each layer closes the one below it explicitly: cleanup order never depends on the GC.
    events = with_keepalive(run_chat(prep), settings.SSE_PING_SECONDS)
    async with contextlib.aclosing(events):
        async for item in events:
            yield b": ping\n\n" if item is None else sse(*item)


def wants_stream(request: HttpRequest, payload: Any) -> bool:
    if isinstance(payload, dict) and payload.get("stream") is True:
        return True
    return "text/event-stream" in request.headers.get("Accept", "")


def streaming_response(body: AsyncIterator[bytes], request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream; charset=utf-8")
    for name, value in SSE_HEADERS.items():
        response[name] = value
    _with_rate_headers(request, response)
    return response


@csrf_exempt
async def chat_view(request: HttpRequest) -> HttpResponse:
    started = time.perf_counter()
    if request.method != "POST":
        return error_json(APIError("Use POST for /v1/chat.", status_code=405))
    try:
        context = await authenticate_request(request)
        payload = parse_json(request)
        data = ChatInput.from_payload(payload)
        stream = wants_stream(request, payload)
        prep = await db_sync(prepare_chat)(context, data, started=started)
    except APIError as exc:
        return _with_rate_headers(request, error_json(exc))
    if stream:
        return streaming_response(sse_stream(prep), request)
    try:
        body = await collect(prep)
    except APIError as exc:
        return _with_rate_headers(request, error_json(exc))
    return _with_rate_headers(request, JsonResponse(body))
