"""Open chat sockets (``/ws/chat/``) counted in Redis, shared by every server process, as the
chat slots are (``conversations.slots``): an idle socket costs its server ~67 KB, and one visitor
of a site opened 3,000 of them on one process (~200 MB) while only its chats were capped.

A socket is counted once its key is known, in a sorted set per credential (against
``WS_MAX_SOCKETS_PER_KEY`` for a server-side key, ``WS_MAX_SOCKETS_PER_BROWSER_KEY`` for a browser
key, which every visitor of a site shares) and, for a browser key, in one per visitor (the client
address as ``VISITOR_RATE_LIMIT`` and ``MAX_CONCURRENT_STREAMS_PER_VISITOR`` count it: an IPv6
address by its /64, ``slots.visitor_of``) against ``WS_MAX_SOCKETS_PER_VISITOR``. Beyond a cap the
socket is refused (``rate_limited``, close code 4429); its place is given back when it closes.

Members are scored by the time their process last vouched for them: each event loop refreshes
the scores of its open sockets every ``REFRESH_SECONDS`` in one Redis call, and a member older
than ``SOCKET_SLOT_TTL`` (a crashed process's) is dropped when the next socket is counted. A
socket outlives any fixed TTL (the stream slots' hour would let an idle socket stop counting).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from dataclasses import dataclass

from django.conf import settings

from chatbot_project.errors import APIError, Unavailable
from chatbot_project.redis_client import loop_script
from tenants.context import AuthContext

SOCKET_SLOT_TTL = 120  # seconds without a refresh: its process is gone
REFRESH_SECONDS = 30.0
_BATCH = 500  # members refreshed per Redis call

log = logging.getLogger("chatbot.websocket")

# KEYS: the credential's set ("" = not counted), the visitor's ("" = none). ARGV: member, now,
# the credential's limit, the visitor's, TTL. 1 counted, 0 over the credential's limit, 3 over
# the visitor's (checked first: the visitor's own doing).
_OPEN = """
local now = tonumber(ARGV[2])
local limit, own = tonumber(ARGV[3]), tonumber(ARGV[4])
local expired = now - tonumber(ARGV[5])
if own > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], 0, expired)
  if redis.call('ZCARD', KEYS[2]) >= own then return 3 end
end
if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, expired)
  if redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
if own > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return 1
"""

_CLOSE = """
for _, key in ipairs(KEYS) do
  if key ~= '' then redis.call('ZREM', key, ARGV[1]) end
end
return 1
"""

# KEYS[i] holds ARGV[i + 2]; ARGV[1] now, ARGV[2] TTL. XX: a socket closed meanwhile (its
# member removed) is not added back.
_REFRESH = """
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', ARGV[1], ARGV[i + 2])
  redis.call('EXPIRE', key, ARGV[2])
end
return 1
"""


@dataclass(frozen=True)
class SocketSlot:
    member: str
    keys: tuple[str, str]  # the credential's set, the visitor's ("" when not counted there)


def _limits(context: AuthContext, visitor: str) -> tuple[int, int]:
    """(the credential's cap, the visitor's); 0 = none."""
    if not context.allowed_origins:
        return max(int(getattr(settings, "WS_MAX_SOCKETS_PER_KEY", 0)), 0), 0
    limit = max(int(getattr(settings, "WS_MAX_SOCKETS_PER_BROWSER_KEY", 0)), 0)
    own = max(int(getattr(settings, "WS_MAX_SOCKETS_PER_VISITOR", 0)), 0)
    return limit, own if visitor else 0


async def open_socket(context: AuthContext, visitor: str) -> SocketSlot | None:
    """Count a socket of ``context`` (and of its browser ``visitor``, ``slots.visitor_of``):
    429 ``rate_limited`` beyond a cap, 503 ``unavailable`` without Redis; None when no cap
    applies. ``close_socket`` gives it back."""
    limit, own = _limits(context, visitor)
    if not (limit or own):
        return None
    import redis

    base = f"chat-sockets:{context.principal_id}"
    slot = SocketSlot(
        uuid.uuid4().hex, (base if limit else "", f"{base}:visitor:{visitor}" if own else "")
    )
    try:
        taken = await loop_script(_OPEN)(
            keys=list(slot.keys), args=[slot.member, time.time(), limit, own, SOCKET_SLOT_TTL]
        )
    except (redis.RedisError, OSError):
        raise Unavailable(
            "Chat sockets cannot be counted because Redis cannot be reached; try again shortly."
        ) from None
    if taken == 3:
        raise _over(
            f"One visitor of this site may have {own} chat sockets open at once and this one "
            "already has; close one (limit per visitor, WS_MAX_SOCKETS_PER_VISITOR)."
        )
    if taken == 0:
        scope = (
            "for all of the site's visitors together (limit per site key, "
            "WS_MAX_SOCKETS_PER_BROWSER_KEY)"
            if context.allowed_origins
            else "(WS_MAX_SOCKETS_PER_KEY)"
        )
        raise _over(
            f"This credential already has {limit} chat sockets open, the most it may {scope}; "
            "close one or try again later."
        )
    _refresher().open[slot.member] = slot.keys
    _refresher().start()
    return slot


def _over(message: str) -> APIError:
    return APIError(message, type="rate_limited", status_code=429)


async def close_socket(slot: SocketSlot | None) -> None:
    """Give a socket's place back (it lapses after SOCKET_SLOT_TTL if Redis cannot be told)."""
    if slot is None:
        return
    _refresher().open.pop(slot.member, None)
    try:
        await loop_script(_CLOSE)(keys=list(slot.keys), args=[slot.member])
    except Exception:
        log.warning("could not release a chat socket's place", exc_info=True)


class _Refresher:
    """The open sockets of one event loop, their scores refreshed every REFRESH_SECONDS."""

    def __init__(self) -> None:
        self.open: dict[str, tuple[str, str]] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self.open:
            await asyncio.sleep(REFRESH_SECONDS)
            pairs = [(k, m) for m, keys in list(self.open.items()) for k in keys if k]
            now = time.time()
            for i in range(0, len(pairs), _BATCH):
                batch = pairs[i : i + _BATCH]
                try:
                    await loop_script(_REFRESH)(
                        keys=[k for k, _ in batch],
                        args=[now, SOCKET_SLOT_TTL, *(m for _, m in batch)],
                    )
                except Exception:  # Redis down: tried again next time (TTL is 4 refreshes)
                    log.warning("could not refresh open chat sockets", exc_info=True)
                    break


_refreshers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _refresher() -> _Refresher:
    loop = asyncio.get_running_loop()
    found = _refreshers.get(loop)
    if found is None:
        found = _refreshers[loop] = _Refresher()
    return found
