"""``POST /v1/chat`` in the fast lane (``chatbot_project.fastlane``): plain requests without
Django's request cycle, everything else through the Django view (``streaming.chat_view``).

Why: Django's cycle costs ~1.1-1.9 ms of the event loop per request here; on the chat path that
is time to first token and, at 100 new streams per second, a tenth or more of the loop
(bench/README.md, "Chat").

Plain here: a JSON body ``ChatInput`` takes as it is and a credential with the ``chat``
permission (``fastlane.authenticated``). The work is the view's own steps
(``streaming.limit_and_embed``, ``start_chat``, then ``sse_stream`` or ``collect``); a client
that goes away cancels it like Django's handler does (``fastlane.until_disconnect``), so the
upstream request is closed and the partial answer saved as ``cancelled``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from chatbot_project import fastlane, jsonbody
from chatbot_project.errors import APIError, error_body

PATH = "/v1/chat"
SSE_TYPE = b"text/event-stream; charset=utf-8"


def application(django_app: Any) -> Any:
    return fastlane.lane(PATH, django_app, _parse, _answer, "chat")


def _parse(body: bytes) -> tuple[Any, Any] | None:
    """(payload, ChatInput) of a request this lane answers, else None."""
    from conversations.chat_input import ChatInput

    try:
        payload = jsonbody.loads(body or b"null")
        return payload, ChatInput.from_payload(payload)
    except (ValueError, APIError):
        return None


async def _answer(
    request: fastlane.FastRequest, parsed: Any, context: Any, receive: Any, send: Any
) -> None:
    payload, data = parsed
    if not await fastlane.until_disconnect(receive, _chat(request, payload, data, context, send)):
        request.log(499, context)  # the client left (nginx's code for it)


async def _chat(
    request: fastlane.FastRequest, payload: Any, data: Any, context: Any, send: Any
) -> None:
    from conversations.slots import release_stream_slot
    from conversations.streaming import (
        collect,
        finish_unrun,
        limit_and_embed,
        request_visitor,
        sse_headers,
        sse_stream,
        wants_stream,
    )
    from conversations.streaming import start_chat as start

    try:
        embedding = await limit_and_embed(request, context, data.message.strip())
        stream = wants_stream(request.headers.get("accept", ""), payload)
        visitor = request_visitor(request, context)  # "" here: the lane takes no Origin
        prep, slot = await start(context, data, embedding, request.started, visitor=visitor)
    except APIError as exc:
        return await _error(send, request, exc, context)
    except Exception as exc:  # the database down: 503, as Django's path answers; else a 500
        fastlane.error_log.exception("Internal Server Error: %s", PATH)
        status, body, headers = fastlane.internal_error(exc)
        return await fastlane.send_json(send, request, status, body, headers, context)
    if stream:
        # The slot is given back here, not in sse_stream (a generator cancelled before it
        # started runs nothing), and before the last message: once the response is complete
        # the server reports the client as gone, and until_disconnect would cancel any await.
        released = False
        try:
            await send(request.response_start(200, SSE_TYPE, sse_headers()))
            chunks = sse_stream(prep, None)
            async with contextlib.aclosing(chunks):  # type: ignore[type-var]
                async for part in chunks:
                    await send({"type": "http.response.body", "body": part, "more_body": True})
            released = True
            await asyncio.shield(release_stream_slot(context, slot))
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if not released:
                await asyncio.shield(finish_unrun(prep, slot))
        request.log(200, context)
        return None
    try:
        body = await collect(prep)
    except APIError as exc:
        return await _error(send, request, exc, context)
    finally:
        await release_stream_slot(context, slot)
    return await fastlane.send_json(send, request, 200, body, None, context)


async def _error(send: Any, request: fastlane.FastRequest, exc: APIError, context: Any) -> None:
    body = error_body(exc.type, str(exc.detail), exc.details)
    await fastlane.send_json(send, request, exc.status_code, body, exc.headers, context)
