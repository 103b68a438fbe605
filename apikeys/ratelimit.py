"""Rate limits per API key (or per JWT user), counted atomically in Redis by all processes.

The limit is the key's own ``rate_limit`` (``"60/m"``: count per ``s``, ``m``, ``h`` or ``d``),
else the tenant's ``default_rate_limit``, else ``settings.RATE_LIMIT_DEFAULT``. Counting is a
fixed window that opens at the first hit, done by one Lua script (INCR + PEXPIRE), so concurrent
requests from any number of processes never over-admit.

Functions (sync and async flavours behave the same):

    hit(context, *, bucket="api", identity=None, limit=None) -> Decision
    await ahit(context, *, bucket="api", identity=None, limit=None) -> Decision

- ``context``: the caller's ``tenants.context.AuthContext``.
- ``bucket``: which counter (``"api"`` for the REST API; a view may use its own, e.g. ``"chat"``,
  to count separately).
- ``identity``: an extra key part, e.g. the widget's end-user id, so a per-end-user limit can
  apply on top of the per-key one (call once without and once with it). Hashed, any string works.
- ``limit``: override the limit string for this call.
- ``Decision(allowed, limit, remaining, retry_after)``: ``retry_after`` is whole seconds >= 1 when
  refused, 0 when allowed.
- When Redis cannot be reached both raise ``chatbot_project.errors.Unavailable`` (503
  ``unavailable``) within the client's socket timeouts; they never hang.

Helpers for views that are not DRF views (the async chat view):
``rate_limited_error(decision)`` is the 429 ``APIError`` to raise/return (with ``Retry-After``);
``apply_headers(response, decision)`` sets ``X-RateLimit-Limit``/``X-RateLimit-Remaining``. Or set
``request.rate_limit_decision = decision`` on the Django request and ``RateLimitHeadersMiddleware``
adds the headers.

DRF views are limited by ``RateLimitThrottle`` (in ``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]``)
for every authenticated request; a view opts out with ``rate_limit_bucket = None``.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Any

import redis
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from rest_framework.throttling import BaseThrottle

from chatbot_project.env import rate_limit_parts
from chatbot_project.errors import APIError, Unavailable
from chatbot_project.redis_client import get_redis, loop_script
from tenants.context import AuthContext

log = logging.getLogger("chatbot.ratelimit")
REDIS_DOWN = (
    "Rate limiting is unavailable because its store (Redis) cannot be reached; "
    "try again in a few seconds."
)

_LUA = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


# The same count, and the value of one more key read in the same round trip (KEYS[2]; a hot
# path that needs a cached value anyway, e.g. /v1/retrieve's question embedding).
_LUA_AND_GET = _LUA.replace(
    "return {count, ttl}", "return {count, ttl, redis.call('GET', KEYS[2])}"
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds, >= 1 when refused


def parse_limit(value: str) -> tuple[int, int]:
    """``"60/m"`` -> (60, 60). Raises ValueError on anything else (settings check theirs at
    start with the same ``rate_limit_parts``)."""
    parts = rate_limit_parts(value)
    if parts is None:
        raise ValueError(f"Bad rate limit {value!r}; use <count>/<s|m|h|d>, e.g. 60/m.")
    return parts


def limit_for(context: AuthContext) -> str:
    key = context.api_key
    return (
        (getattr(key, "rate_limit", "") or "")
        or context.rate_limit
        or (context.tenant.default_rate_limit if context.tenant is not None else "")
        or settings.RATE_LIMIT_DEFAULT
    )


def _redis_key(context: AuthContext, bucket: str, identity: str | None) -> str:
    key = f"rl:{bucket}:{context.principal_id}"
    if identity:
        key += ":u:" + hashlib.sha256(str(identity).encode()).hexdigest()[:24]
    return key


def _counter(key: str, window: int) -> str:
    """The Redis key counting hits on ``key`` in windows of ``window`` seconds. One count per
    window length: a limit changed to a shorter window ("100/d" -> "3/m") starts its own count,
    where one key for any limit kept the day's window, and refused the rest of the day."""
    return f"{key}:w{window}"


def _decide(count: int, ttl_ms: int, limit: int) -> Decision:
    allowed = count <= limit
    retry = 0 if allowed else max(1, math.ceil(int(ttl_ms) / 1000))
    return Decision(
        allowed=allowed, limit=limit, remaining=max(0, limit - count), retry_after=retry
    )


def _parse_or_default(limit: str) -> tuple[int, int]:
    try:
        return parse_limit(limit)
    except ValueError:
        # A bad stored value (e.g. "0/m" from before validation) must not turn into a 500.
        log.warning("invalid rate limit %r; using RATE_LIMIT_DEFAULT", limit)
        return parse_limit(settings.RATE_LIMIT_DEFAULT)


def _sync_run(source: str, keys: list[str], window: int) -> Any:
    """Run a counting script on the process's client (registered once per client)."""
    client = get_redis()
    script = _sync_scripts.get(source)
    try:
        if script is None or script.registered_client is not client:
            script = _sync_scripts[source] = client.register_script(source)
        return script(keys=keys, args=[window * 1000])
    except redis.RedisError:
        raise Unavailable(REDIS_DOWN) from None


async def _async_run(source: str, keys: list[str], window: int) -> Any:
    """The same on the running loop's client."""
    try:
        return await loop_script(source)(keys=keys, args=[window * 1000])
    except (redis.RedisError, OSError):
        raise Unavailable(REDIS_DOWN) from None


_sync_scripts: dict[str, Any] = {}


def check(key: str, limit: str) -> Decision:
    """Count one hit on the raw counter ``key`` against ``limit`` (``"10/m"``)."""
    count_limit, window = _parse_or_default(limit)
    count, ttl = _sync_run(_LUA, [_counter(key, window)], window)
    return _decide(int(count), int(ttl), count_limit)


async def acheck(key: str, limit: str) -> Decision:
    count_limit, window = _parse_or_default(limit)
    count, ttl = await _async_run(_LUA, [_counter(key, window)], window)
    return _decide(int(count), int(ttl), count_limit)


def hit_and_get(context: AuthContext, get_key: str, *, bucket: str = "api") -> tuple[Decision, Any]:
    """``hit(context, bucket=bucket)`` and Redis GET ``get_key`` in one round trip (one script):
    (decision, the value or None). The GET is a cache read: its value is returned whether or
    not the hit is allowed."""
    count_limit, window = _parse_or_default(limit_for(context))
    keys = [_counter(_redis_key(context, bucket, None), window), get_key]
    count, ttl, value = _sync_run(_LUA_AND_GET, keys, window)
    return _decide(int(count), int(ttl), count_limit), value or None


async def ahit_and_get(
    context: AuthContext, get_key: str, *, bucket: str = "api"
) -> tuple[Decision, Any]:
    """``hit_and_get`` on the running loop's Redis client: one command for the hit and the GET."""
    count_limit, window = _parse_or_default(limit_for(context))
    keys = [_counter(_redis_key(context, bucket, None), window), get_key]
    count, ttl, value = await _async_run(_LUA_AND_GET, keys, window)
    return _decide(int(count), int(ttl), count_limit), value or None


def hit(
    context: AuthContext,
    *,
    bucket: str = "api",
    identity: str | None = None,
    limit: str | None = None,
) -> Decision:
    return check(_redis_key(context, bucket, identity), limit or limit_for(context))


async def ahit(
    context: AuthContext,
    *,
    bucket: str = "api",
    identity: str | None = None,
    limit: str | None = None,
) -> Decision:
    return await acheck(_redis_key(context, bucket, identity), limit or limit_for(context))


def headers_for(decision: Decision) -> dict[str, str]:
    headers = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after)
    return headers


def apply_headers(response: Any, decision: Decision) -> Any:
    for name, value in headers_for(decision).items():
        response[name] = value
    return response


def rate_limited_error(decision: Decision, counted_for: str = "this credential") -> APIError:
    return APIError(
        f"Rate limit of {decision.limit} requests exceeded for {counted_for}; "
        f"retry in {decision.retry_after} s.",
        type="rate_limited",
        status_code=429,
        headers=headers_for(decision),
    )


class RateLimitThrottle(BaseThrottle):
    """Counts every authenticated DRF request; refusals are 429 ``rate_limited``."""

    def allow_request(self, request: Any, view: Any) -> bool:
        context = getattr(request, "auth_context", None)
        bucket = getattr(view, "rate_limit_bucket", "api")
        if context is None or bucket is None:
            return True
        decision = hit(context, bucket=bucket)
        django_request = getattr(request, "_request", request)
        django_request.rate_limit_decision = decision
        if not decision.allowed:
            raise rate_limited_error(decision)
        return True


class RateLimitHeadersMiddleware:
    """Adds ``X-RateLimit-*`` to responses of requests that were counted."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        return self._after(request, self.get_response(request))

    async def __acall__(self, request: Any) -> Any:
        return self._after(request, await self.get_response(request))

    @staticmethod
    def _after(request: Any, response: Any) -> Any:
        decision = getattr(request, "rate_limit_decision", None)
        if decision is not None:
            for name, value in headers_for(decision).items():
                if name not in response:
                    response[name] = value
        return response
