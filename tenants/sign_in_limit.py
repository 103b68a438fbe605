"""Failed sign-ins per username (``SIGN_IN_FAILURES_PER_USERNAME`` in
``SIGN_IN_FAILURE_WINDOW_MINUTES``), beside the per-address limit (``tenants.apis.LOGIN_LIMIT``).

The address limit alone did not slow password guessing spread over many addresses against one
account. Both doors count here: ``POST /v1/auth/token`` (``SessionTokenObtainSerializer``) and
the admin's login form (``chatbot_project.admin_site``), on one counter per submitted username,
whether an account has it or not (the answer tells nothing about which exist). The username is
counted as the password check looks it up: stripped and NFKC-normalised as the admin form's
username field gives it (``authenticate`` then matches it exactly).

Only failures count: each attempt takes a place before the password is checked (so parallel
guesses cannot all pass a count read before any of them failed) and gives it back unless the
password was wrong or, after the right one, the one-time code was checked and wrong (else
whoever had the password guessed codes beyond this limit). A right password costs nothing
without a code (asked for) or with a right one, or while django-otp holds the codes back (none
is checked), and other accounts behind the same address are not affected. A stranger without
the password cannot reach the code, so counting codes gives no one a new way to lock an
account: its 10 wrong passwords could already. Once the count is over the limit
every attempt for that username is refused, right password or not (else the answer to a right
one would tell it apart), with 429 ``rate_limited`` and ``Retry-After``, until the window that
opened at the first failure ends.

A complete sign-in (``Attempt.succeeded``: the password and, when asked, a right code; a token
or an admin session issued) clears the count: 9 failures, the owner's sign-in, then 2 typos
locked the account its owner had just signed in to. Only a complete one: a stranger without
the password, or with it and a wrong code, never gets there. Attempts still in flight when it
clears (their password not yet checked) keep their places (``pending`` counts them): a failure
among them counts after the clearing, so between two sign-ins of the owner guesses stay within
the limit, however many run in parallel (deleting the count forgot them). An attempt whose
process died before it settled stays pending until the window ends: it may count once more.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

import redis
from django.conf import settings

from apikeys.ratelimit import REDIS_DOWN, Decision, headers_for
from chatbot_project.errors import Unavailable
from chatbot_project.redis_client import get_redis

# KEYS: the count, the attempts in flight (taken, not settled). ARGV: the window (ms), the limit.
# A refused attempt counts but is not in flight (its password is never checked).
_TAKE = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if count <= tonumber(ARGV[2]) then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return {count, ttl}
"""
_SETTLE = "if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end"
_GIVE_BACK = f"""{_SETTLE}
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
"""
# The count becomes the attempts still in flight (the window's expiry kept); none: no count.
_CLEAR = f"""{_SETTLE}
local pending = tonumber(redis.call('GET', KEYS[2]) or '0')
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if pending == 0 then
  redis.call('DEL', KEYS[1])
elseif count > pending then
  redis.call('DECRBY', KEYS[1], count - pending)
end
"""
_scripts: dict[str, Any] = {}


def _run(source: str, keys: list[str], *args: int) -> Any:
    """Run one of these scripts on the process's client (registered once per client)."""
    client = get_redis()
    script = _scripts.get(source)
    try:
        if script is None or script.registered_client is not client:
            script = _scripts[source] = client.register_script(source)
        return script(keys=keys, args=list(args))
    except redis.RedisError:
        raise Unavailable(REDIS_DOWN) from None


def counted_name(username: Any) -> str:
    return unicodedata.normalize("NFKC", str(username or "").strip())


class Attempt:
    """One sign-in attempt's place in its username's count (``take``), settled once by one of
    ``failed``, ``give_back`` or ``succeeded`` (later calls do nothing)."""

    def __init__(self, key: str | None, decision: Decision | None) -> None:
        self.key, self.decision = key, decision

    @property
    def refused(self) -> bool:
        return self.decision is not None and not self.decision.allowed

    def _settle(self, source: str) -> None:
        key, self.key = self.key, None
        if key is not None and not self.refused:
            _run(source, [key, f"{key}:pending"])

    def failed(self) -> None:
        """A wrong password, or a right one with a wrong code: the place stays taken."""
        self._settle(_SETTLE)

    def give_back(self) -> None:
        """Not a failure (the password was right, or never checked): uncount it."""
        self._settle(_GIVE_BACK)

    def succeeded(self) -> None:
        """A complete sign-in (a token or a session issued): the username's failures so far
        are forgotten; attempts still in flight keep their places (module docstring)."""
        self._settle(_CLEAR)

    def message(self) -> str:
        minutes = settings.SIGN_IN_FAILURE_WINDOW_MINUTES
        return (
            f"Too many failed sign-ins for this username ({self.decision.limit} in {minutes} "
            f"minutes); retry in {self.decision.retry_after} s."
        )

    def error(self) -> Any:
        from chatbot_project.errors import APIError

        return APIError(
            self.message(), type="rate_limited", status_code=429,
            headers=headers_for(self.decision),
        )  # fmt: skip


def _window() -> int:
    return max(1, int(settings.SIGN_IN_FAILURE_WINDOW_MINUTES)) * 60


def take(username: Any) -> Attempt:
    """Count an attempt for ``username`` (``Attempt.refused`` when over the limit). No limit
    (``SIGN_IN_FAILURES_PER_USERNAME`` 0) or no username: an attempt that counts nothing."""
    limit = int(settings.SIGN_IN_FAILURES_PER_USERNAME)
    name = counted_name(username)
    if not limit or not name:
        return Attempt(None, None)
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    window = _window()
    key = f"rl:login-user:{digest}:w{window}"
    count, ttl = _run(_TAKE, [key, f"{key}:pending"], window * 1000, limit)
    count = int(count)
    allowed = count <= limit
    retry = 0 if allowed else max(1, -(-int(ttl) // 1000))
    return Attempt(key, Decision(allowed, limit, max(0, limit - count), retry))
