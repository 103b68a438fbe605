"""The request-body ceiling, enforced where the body is read (the outermost ASGI layer).

Django's ASGI handler reads a request's whole body (into a temporary file past 2 MB) before any
view or size check runs, so without this a client could declare a 5 GB body, or stream one
chunked, and the server would keep writing it to disk. Here:

- a ``Content-Length`` above ``MAX_REQUEST_BODY_BYTES`` is answered 413 at once, unread;
- a body without one (chunked) is counted as it arrives: past the ceiling the client gets the
  413 and the application sees the client as gone (``http.disconnect``), so nothing more is read.

The ceiling is the largest body any route takes: an upload of ``MAX_UPLOAD_BYTES`` plus its
multipart framing (settings). Smaller, per-route limits (JSON bodies: ``MAX_JSON_BODY_BYTES``;
uploads) are still checked by the routes, with their own sentences.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings

from chatbot_project.middleware import _REQUEST_ID_RE


def _message(limit: int) -> bytes:
    mb = limit / (1024 * 1024)
    upload_mb = settings.MAX_UPLOAD_BYTES / (1024 * 1024)
    body = {
        "error": {
            "type": "payload_too_large",
            # It said "upload files of at most the documented size": name the size.
            "message": f"The request body is larger than {mb:.0f} MB, the most this server "
            f"accepts; a document file may be at most {upload_mb:g} MB.",
            "details": {"max_bytes": limit},
        }
    }
    return json.dumps(body).encode()


def _request_id(scope: dict[str, Any]) -> bytes:
    """The X-Request-ID every answer carries (API.md), chosen as the request-id middleware
    chooses it: the client's own when well-formed, else a new one."""
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            if _REQUEST_ID_RE.match(incoming):
                return value
    return uuid.uuid4().hex.encode()


async def _refuse(send: Any, limit: int, scope: dict[str, Any]) -> None:
    from chatbot_project.fastlane import _secure, static_headers

    body = _message(limit)
    names: dict[str, str] = {}
    for n, v in scope.get("headers") or ():  # a header given twice: its first, as is_secure reads
        names.setdefault(n.decode("latin-1").lower(), v.decode("latin-1"))
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                (b"x-request-id", _request_id(scope)),
                # The security headers of every other answer (HSTS when secure, nosniff,
                # Referrer-Policy, X-Frame-Options, Permissions-Policy): the middleware that
                # adds them has not run.
                *static_headers(scope.get("path", "/"), _secure(scope, names)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


def limit_body(app: Any) -> Any:
    """``app`` behind the request-body ceiling (HTTP only)."""

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        limit = settings.MAX_REQUEST_BODY_BYTES
        declared = _declared_length(scope)
        if declared is not None:
            if declared > limit:
                return await _refuse(send, limit, scope)
            return await app(scope, receive, send)  # the server stops at the declared length
        state = {"read": 0, "refused": False, "started": False}

        async def counted_receive() -> dict[str, Any]:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message.get("type") == "http.request":
                state["read"] += len(message.get("body") or b"")
                if state["read"] > limit:
                    state["refused"] = True
                    if not state["started"]:
                        state["started"] = True
                        await _refuse(send, limit, scope)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if state["refused"]:
                return  # the 413 went out; the application's answer is dropped
            if message.get("type") == "http.response.start":
                state["started"] = True
            await send(message)

        return await app(scope, counted_receive, guarded_send)

    return guarded
