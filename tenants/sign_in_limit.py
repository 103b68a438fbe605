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
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from django.conf import settings

from apikeys.ratelimit import _LUA, Decision, _sync_run, headers_for

_GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


def counted_name(username: Any) -> str:
    return unicodedata.normalize("NFKC", str(username or "").strip())


class Attempt:
    """One sign-in attempt's place in its username's count (``take``)."""

    def __init__(self, key: str | None, decision: Decision | None) -> None:
        self.key, self.decision = key, decision

    @property
    def refused(self) -> bool:
        return self.decision is not None and not self.decision.allowed

    def give_back(self) -> None:
        """Not a failure (the password was right, or never checked): uncount it. Once only."""
        key, self.key = self.key, None
        if key is not None and not self.refused:
            _sync_run(_GIVE_BACK, [key], _window())

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
    count, ttl = _sync_run(_LUA, [key], window)
    count = int(count)
    allowed = count <= limit
    retry = 0 if allowed else max(1, -(-int(ttl) // 1000))
    return Attempt(key, Decision(allowed, limit, max(0, limit - count), retry))
