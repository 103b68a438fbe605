"""A fast lane for the hottest API routes: plain requests answered on ASGI, Django for the rest.

Django's request/response cycle costs ~1.1-1.9 ms per request on this machine (GET /v1/health
through the lean middleware chain) where a bare ASGI answer costs ~0.2 ms over the same loopback
client (bench/README.md). For ``POST /v1/retrieve`` (goal: API p50 <= 1.3x its SQL) and
``POST /v1/chat`` (time to first token, streams started per second) that is most of the API's
own cost, so a route may answer here (``conversations.retrieve_asgi``, ``conversations.chat_asgi``).

The contract, for every route using it:
- Only a *plain* request takes the lane: no ``Origin`` (CORS stays django-cors-headers' job), a
  host Django accepts, no HTTPS redirect due, each header once, a JSON body (or none) under
  ``MAX_BODY`` that the route's own ``parse`` takes as it is, and a credential with the route's
  permission (``authenticated``: from the in-process key cache, else one read in a DB thread)
  that is not a browser key (one with ``allowed_origins``: counted per visitor address).
- Anything else goes to Django untouched (the body replayed) before any side effect, so errors
  keep one wording and one code path.
- The lane answers with the status, body and headers the lean chain would (``static_headers``
  runs that chain's own header middleware once per route; tests compare both paths).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from django.http.request import split_domain_port, validate_host

from chatbot_project.csp import PERMISSIONS_POLICY
from chatbot_project.errors import TYPES_BY_STATUS, error_body, unavailable_message
from chatbot_project.middleware import _DJANGO_MESSAGES, _REQUEST_ID_RE, API_CACHE_CONTROL

MAX_BODY = 64 * 1024  # larger bodies go to Django (its size limits and errors)
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")
INTERNAL_ERROR = _DJANGO_MESSAGES[500]  # the sentence Django's path answers a 500 with

access_log = logging.getLogger("chatbot.access")
error_log = logging.getLogger("django.request")
encode_json = DjangoJSONEncoder().encode  # what JsonResponse uses


class FastRequest:
    """What a lane handler knows about its request. ``rate_limit_decision`` is set by the
    rate-limit helpers (as on a Django request) and becomes the X-RateLimit headers."""

    __slots__ = (
        "headers", "key_check", "path", "rate_limit_decision", "request_id", "secure", "started",
    )  # fmt: skip

    def __init__(self, scope: dict[str, Any], headers: dict[str, str], started: float) -> None:
        self.headers = headers
        self.path: str = scope["path"]
        self.started = started
        self.secure = _secure(scope, headers)
        incoming = headers.get("x-request-id", "")
        self.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        self.rate_limit_decision: Any = None
        self.key_check: Any = None  # see lane(aged_keys=True)

    def response_start(
        self, status: int, content_type: bytes, extra: dict[str, str] | None = None,
        length: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The ``http.response.start`` message, with the lean chain's headers."""
        from apikeys.ratelimit import headers_for

        merged = dict(extra or {})
        merged.setdefault("Cache-Control", API_CACHE_CONTROL)  # as the request-id middleware
        if self.rate_limit_decision is not None:
            for name, value in headers_for(self.rate_limit_decision).items():
                merged.setdefault(name, value)
        out = [
            (b"content-type", content_type),
            *[(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in merged.items()],
            *static_headers(self.path, self.secure),
            (b"x-request-id", self.request_id.encode()),
        ]
        if length is not None:
            out.append((b"content-length", str(length).encode()))
        return {"type": "http.response.start", "status": status, "headers": out}

    def log(self, status: int, context: Any) -> None:
        access_log.info(
            "%s %s %s", "POST", self.path, status,
            extra={
                "request_id": self.request_id,
                "tenant": getattr(getattr(context, "tenant", None), "slug", None),
                "status": status,
                "latency_ms": round((time.perf_counter() - self.started) * 1000, 2),
                "method": "POST",
                "path": self.path,
            },
        )  # fmt: skip


async def send_json(
    send: Any, request: FastRequest, status: int, body: bytes | Any,
    extra: dict[str, str] | None = None, context: Any = None,
) -> None:  # fmt: skip
    """A JSON response (``body``: encoded bytes, or a value to encode)."""
    data = body if isinstance(body, bytes) else encode_json(body).encode()
    await send(request.response_start(status, b"application/json", extra, len(data)))
    await send({"type": "http.response.body", "body": data})
    request.log(status, context)


async def until_disconnect(receive: Any, work: Awaitable[Any]) -> bool:
    """Run ``work`` unless the client goes away first: then it is cancelled (as Django's ASGI
    handler cancels a view) and awaited. True when ``work`` finished (its exception, if any,
    is raised), False when the client left."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # we are cancelled ourselves: so is the work
        task.cancel()
        watcher.cancel()
        raise
    if task.done():
        watcher.cancel()
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


def internal_error(exc: BaseException | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) for an unexpected exception, as Django's path answers it: a 503
    ``unavailable`` with ``Retry-After`` when a dependency is down (the database, Redis), else
    API.md's 500 (the caller logs the exception)."""
    down = unavailable_message(exc)
    if down:
        return 503, error_body("unavailable", down), {"Retry-After": "5"}
    return 500, error_body(TYPES_BY_STATUS.get(500, "internal_error"), INTERNAL_ERROR), {}


Parse = Callable[[bytes], Any]
Answer = Callable[[FastRequest, Any, Any, Any, Any], Awaitable[bool | None]]


def lane(
    path: str, django_app: Any, parse: Parse, answer: Answer, permission: str, *,
    aged_keys: bool = False,
) -> Any:  # fmt: skip
    """An ASGI app for POST ``path``: ``parse(body)`` returns the validated input, or None to
    hand the request to ``django_app`` (which words the error); then the credential is checked
    (``authenticated``); then ``await answer(request, parsed, context, receive, send)``.

    ``aged_keys``: an API key verified here before but longer ago than API_KEY_CACHE_SECONDS
    is used at once and confirmed by ``answer`` (``request.key_check``: its read-only database
    work runs inside ``key_check.riding()``, and it returns False before sending anything when
    ``key_check.confirmed()`` is not: the request then goes to Django, which authenticates
    afresh). Saves the thread hop and three queries of a re-read for keys used every few seconds
    or less often."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        headers = _headers(scope) if _eligible_scope(scope, path) else None
        if headers is None:
            return await django_app(scope, receive, send)
        body, more, gone = await _read(receive)
        if gone:
            return None
        parsed = None if more else parse(body)
        found = None if parsed is None else await authenticated(headers, permission, aged_keys)
        if found is not None:
            request = FastRequest(scope, headers, started)
            context, request.key_check = found
            if await answer(request, parsed, context, receive, send) is not False:
                return None
        return await django_app(scope, _replay(body, more, receive), send)

    return app


async def authenticated(
    headers: dict[str, str], permission: str, aged: bool = False
) -> tuple[Any, Any] | None:
    """(the caller's context, a ``tenants.auth.KeyCheck`` or None) if it has ``permission``,
    else None (Django then answers with its 401/403). No thread hop for a key verified in this
    process moments ago (or, with ``aged``, one to confirm: see ``lane``); one otherwise (a
    read, no side effect, so handing the request to Django afterwards is safe)."""
    from conversations.dbthreads import db_sync
    from tenants.auth import authenticate, authenticate_cached_or_aged

    if "authorization" not in headers and "x-api-key" not in headers:
        return None
    try:
        found = authenticate_cached_or_aged(headers, aged=aged)
        if found is None:
            context = await db_sync(authenticate)(headers)
            found = (context, None) if context is not None else None
    except Exception:  # refused, or the database is down: Django's path answers either way
        return None
    if found is None or not found[0].has(permission):
        return None
    if found[0].allowed_origins:
        # A browser key is counted per visitor address (slots.visitor_of), which the lane
        # does not know: Django's path answers it. (Browsers send an Origin, which comes to
        # Django anyway; this is the key copied out of a page, used without one.)
        return None
    return found


# --------------------------------------------------------------------------- eligibility
def _eligible_scope(scope: dict[str, Any], path: str) -> bool:
    return (
        scope.get("method") == "POST"
        and scope.get("path") == path
        and not scope.get("root_path")
        and not settings.DISALLOWED_USER_AGENTS
        and not settings.PREPEND_WWW
        and not settings.USE_X_FORWARDED_HOST
    )


def _headers(scope: dict[str, Any]) -> dict[str, str] | None:
    """Lower-cased headers, or None when Django must answer (CORS, a host it would refuse, a
    redirect to HTTPS, a header given twice, a body that is not JSON)."""
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


# --------------------------------------------------------------------------- headers
@lru_cache(maxsize=16)
def static_headers(path: str, secure: bool) -> tuple[tuple[bytes, bytes], ...]:
    """The headers the lean chain's CORS (no ``Origin``), Security and X-Frame-Options
    middleware add to a response on ``path``, got once by running their own hooks, and the
    constant Permissions-Policy RequestContextMiddleware adds."""
    from corsheaders.middleware import CorsMiddleware

    from chatbot_project.lean import InlineSecurityMiddleware, InlineXFrameOptionsMiddleware

    class _Request:
        path_info = path
        method = "POST"
        headers: dict[str, str] = {}
        META: dict[str, str] = {}

        def is_secure(self) -> bool:
            return secure

    _Request.path = path  # type: ignore[attr-defined]
    response = JsonResponse({})
    before = {k.lower() for k in response.headers}

    def get_response(request: Any) -> Any:
        return response

    CorsMiddleware(get_response).add_response_headers(_Request(), response)  # type: ignore[arg-type]
    for cls in (InlineSecurityMiddleware, InlineXFrameOptionsMiddleware):
        response = cls(get_response).process_response(_Request(), response)
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)  # as RequestContext's
    return tuple(
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in response.headers.items()
        if k.lower() not in before
    )
