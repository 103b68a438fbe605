"""``POST /v1/retrieve`` straight on ASGI for the plain request, Django for everything else.

Why: the retrieval benchmark's goal is API p50 <= 1.3x the raw SQL p50, and for a 1.3 ms search
that leaves ~0.4 ms for the whole API. Django's request/response cycle alone costs ~1.1-1.5 ms
per request here (GET /v1/health through the lean chain) where a bare ASGI answer costs ~0.2 ms
over the same loopback client (bench/README.md, "Load").

What takes this path: POST /v1/retrieve with a JSON body the fast validator takes as it is
(``apis.retrieve_input``'s plain case, with ``bot``, without ``scope``), no ``Origin`` (CORS is
django-cors-headers' job), a host Django would accept, and an API key this process verified
recently (``tenants.auth.authenticate_cached``; no I/O). It then does exactly what the view
does (the rate-limit hit, the question's cached embedding, ``apis._retrieve``), all in one
DB-thread hop (``_serve``), and answers with the same
status, body and headers as the lean middleware chain (tests/test_retrieve_asgi.py compares
the two). Anything else is handed to Django untouched (the body replayed) before any side
effect, so errors keep their one wording; after the rate-limit hit, errors are answered here.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.http.request import split_domain_port, validate_host

from chatbot_project.errors import TYPES_BY_STATUS, APIError, error_body
from chatbot_project.middleware import _REQUEST_ID_RE

PATH = "/v1/retrieve"
MAX_BODY = 64 * 1024  # larger bodies go to Django (its size limits and errors)
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")

access_log = logging.getLogger("chatbot.access")
error_log = logging.getLogger("django.request")
_encode = DjangoJSONEncoder().encode  # what JsonResponse uses


def application(django_app: Any) -> Any:
    """An ASGI app for PATH that answers plain requests itself and hands others to Django."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        headers = _headers(scope) if _eligible_scope(scope) else None
        if headers is None:
            return await django_app(scope, receive, send)
        body, more, gone = await _read(receive)
        if gone:
            return None
        plain = None if more else _plain(headers, body)
        if plain is None:
            return await django_app(scope, _replay(body, more, receive), send)
        await _answer(scope, send, headers, started, *plain)
        return None

    return app


# --------------------------------------------------------------------------- eligibility
def _eligible_scope(scope: dict[str, Any]) -> bool:
    return (
        scope.get("method") == "POST"
        and scope.get("path") == PATH
        and not scope.get("root_path")
        and not settings.DISALLOWED_USER_AGENTS
        and not settings.PREPEND_WWW
        and not settings.USE_X_FORWARDED_HOST
    )


def _headers(scope: dict[str, Any]) -> dict[str, str] | None:
    """Lower-cased headers, or None when Django must answer (CORS, a host it would refuse, a
    redirect to HTTPS, a header given twice)."""
    out: dict[str, str] = {}
    for name, value in scope.get("headers") or ():
        key = name.decode("latin-1").lower()
        if key in out:
            return None
        out[key] = value.decode("latin-1")
    if "origin" in out or not _host_ok(out.get("host", "")):
        return None
    if settings.SECURE_SSL_REDIRECT and not _secure(scope, out):
        return None
    ctype = out.get("content-type", "").encode("latin-1").lower()
    if ctype and ctype not in _JSON_TYPES:
        return None
    return out


@lru_cache(maxsize=256)
def _host_ok(host: str) -> bool:
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def _secure(scope: dict[str, Any], headers: dict[str, str]) -> bool:
    """``HttpRequest.is_secure`` for these headers (SECURE_PROXY_SSL_HEADER first)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = headers.get(meta_name.removeprefix("HTTP_").lower().replace("_", "-"))
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def _plain(headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], Any] | None:
    """(validated params, authenticated context) for a request this path answers, else None."""
    from conversations.apis import _plain_retrieve_input
    from tenants.auth import authenticate_cached

    if "authorization" not in headers and "x-api-key" not in headers:
        return None
    try:
        params = _plain_retrieve_input(json.loads(body or b"null"))
    except ValueError:
        return None
    if params is None or "scope" in params:
        return None
    try:
        context = authenticate_cached(headers)
    except APIError:
        return None
    if context is None or not context.has("chat"):
        return None
    return params, context


# --------------------------------------------------------------------------- body
async def _read(receive: Any) -> tuple[bytes, bool, bool]:
    """(body, more body still to come (over MAX_BODY), client gone)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False, True
        chunk = message.get("body", b"")
        parts.append(chunk)
        size += len(chunk)
        if not message.get("more_body"):
            return b"".join(parts), False, False
        if size > MAX_BODY:
            return b"".join(parts), True, False


def _replay(body: bytes, more: bool, receive: Any) -> Any:
    """``receive`` for Django: what was read first, then the rest of the client's messages."""
    pending = [{"type": "http.request", "body": body, "more_body": more}]

    async def replayed() -> dict[str, Any]:
        return pending.pop() if pending else await receive()

    return replayed


# --------------------------------------------------------------------------- answer
def _serve(context: Any, params: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    """The request's work in one DB-thread hop: the rate-limit hit and the question's
    embedding-cache read in one Redis round trip (``ratelimit.hit_and_get``), the bot and
    search (``apis._retrieve``), the JSON body. Returns (status, body, extra headers)."""
    from apikeys.ratelimit import headers_for, hit, hit_and_get, rate_limited_error
    from conversations.apis import _retrieve
    from datasets import query_embeddings

    extra: dict[str, str] = {}
    decision = None
    try:
        question = params["query"] if params.get("mode") != "keyword" else None
        key = query_embeddings.ready_key(question) if question else None
        if key is not None:
            decision, raw = hit_and_get(context, key)
        else:
            decision, raw = hit(context, bucket="api"), None
        if not decision.allowed:
            raise rate_limited_error(decision)
        embedding = None
        if question:
            vector = np.frombuffer(raw, dtype="<f4") if raw else None
            embedding = query_embeddings.after_lookup(question, key, vector)
        status, payload = 200, _retrieve(context, params, embedding)
    except APIError as exc:
        status, payload = exc.status_code, error_body(exc.type, str(exc.detail), exc.details)
        extra = dict(exc.headers or {})
    except Exception:
        error_log.exception("Internal Server Error: %s", PATH)
        status = 500
        payload = error_body(
            TYPES_BY_STATUS.get(500, "internal_error"),
            "Something went wrong on our side; it has been logged.",
        )
    if decision is not None:
        for name, value in headers_for(decision).items():
            extra.setdefault(name, value)
    return status, _encode(payload).encode(), extra


async def _answer(
    scope: dict[str, Any],
    send: Any,
    headers: dict[str, str],
    started: float,
    params: dict[str, Any],
    context: Any,
) -> None:
    from conversations.dbthreads import db_sync

    status, body, extra = await db_sync(_serve)(context, params)
    incoming = headers.get("x-request-id", "")
    request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
    out = [
        (b"content-type", b"application/json"),
        *[(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()],
        *_static_headers(_secure(scope, headers)),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
    access_log.info(
        "%s %s %s", "POST", PATH, status,
        extra={
            "request_id": request_id,
            "tenant": getattr(context.tenant, "slug", None),
            "status": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "method": "POST",
            "path": PATH,
        },
    )  # fmt: skip


@lru_cache(maxsize=2)
def _static_headers(secure: bool) -> tuple[tuple[bytes, bytes], ...]:
    """The headers the lean chain's CORS (no ``Origin``), Security and X-Frame-Options
    middleware add to a JSON response, got once by running their own hooks on one."""
    from corsheaders.middleware import CorsMiddleware

    from chatbot_project.lean import InlineSecurityMiddleware, InlineXFrameOptionsMiddleware

    class _Request:
        path = PATH
        path_info = PATH
        method = "POST"
        headers: dict[str, str] = {}
        META: dict[str, str] = {}

        def is_secure(self) -> bool:
            return secure

    response = JsonResponse({})
    before = {k.lower() for k in response.headers}

    def get_response(request: Any) -> Any:
        return response

    CorsMiddleware(get_response).add_response_headers(_Request(), response)  # type: ignore[arg-type]
    for cls in (InlineSecurityMiddleware, InlineXFrameOptionsMiddleware):
        response = cls(get_response).process_response(_Request(), response)
    return tuple(
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in response.headers.items()
        if k.lower() not in before
    )
