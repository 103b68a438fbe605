"""A running chat's claims in Redis, shared by every process:

- its slot among the credential's concurrent chats: a sorted set of running chats per
  credential, members scored by start time so that a crashed process's slots expire
  (``STREAM_SLOT_TTL``); over the limit: 429 ``rate_limited``. The limit is
  ``MAX_CONCURRENT_STREAMS_PER_KEY`` for a server-side credential and
  ``MAX_CONCURRENT_STREAMS_PER_BROWSER_KEY`` for a browser key (one with ``allowed_origins``),
  which every visitor of a site shares: its chats are also counted per visitor (the client
  address of a request with an ``Origin``, as ``VISITOR_RATE_LIMIT`` counts them) in a set of
  their own, against ``MAX_CONCURRENT_STREAMS_PER_VISITOR``. So a busy site's visitors do not
  lock each other out at 20 chats, and one visitor cannot hold the whole site's allowance;
- its conversation: one answer at a time per conversation (``CHAT_CONVERSATION_LOCK_SECONDS``
  expires a crashed process's lock). A second message sent while the conversation's previous
  one is being answered is a 409 ``conflict``: run together they interleaved (question,
  question, answer, answer) and each answered without the other's turn in its history.

Taking them is one Lua script call (drop expired members, count, refuse over a limit, lock
the conversation, add, refresh the sets' expiry): one command instead of a MULTI pipeline of
four plus a ZREM when refused, which cost ~1 ms of the event loop's CPU per chat in redis-py.
Giving them back is one call too, on every path a chat can end by (``release_stream_slot``,
``released_after``, the closers of responses whose body never began).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from chatbot_project.errors import APIError
from chatbot_project.redis_client import loop_script
from tenants.context import AuthContext

STREAM_SLOT_TTL = 3600  # seconds: a slot older than this is a leak (a crashed process), not a chat

# KEYS: the credential's set, the conversation's lock ("" = none), the visitor's set ("" =
# none). ARGV: member, now, the credential's limit (0 = none), slot TTL, lock TTL, the
# visitor's limit (0 = none). Returns 1 taken, 0 over the credential's limit, 2 locked, 3 over
# the visitor's limit (checked first: the visitor's own doing, which it can end).
_ACQUIRE = """
local limit = tonumber(ARGV[3])
local own = tonumber(ARGV[6])
local expired = tonumber(ARGV[2]) - tonumber(ARGV[4])
if own > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], 0, expired)
  if redis.call('ZCARD', KEYS[3]) >= own then
    return 3
  end
end
if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, expired)
  if redis.call('ZCARD', KEYS[1]) >= limit then
    return 0
  end
end
if KEYS[2] ~= '' and not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[5]) then
  return 2
end
if limit > 0 then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
if own > 0 then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
return 1
"""

# KEYS as above; ARGV: member. The lock only if this chat still holds it (it may have expired
# and been taken by the next chat).
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
if KEYS[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
if KEYS[3] ~= '' then
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return 1
"""


@dataclass(frozen=True)
class ChatSlot:
    """What a running chat holds: ``member`` in the credential's set of running chats (and in
    its visitor's set, ``visitor`` = that set's Redis key, "" when not counted per visitor), and
    the lock of its conversation (``lock`` = its Redis key, "" when it holds none)."""

    member: str
    lock: str = ""
    visitor: str = ""


def _slot_key(context: AuthContext) -> str:
    return f"chat-streams:{context.principal_id}"


def _visitor_key(context: AuthContext, visitor: str) -> str:
    return f"chat-streams:{context.principal_id}:visitor:{visitor}"


def visitor_of(context: AuthContext, origin: str, address: str) -> str:
    """Who a chat is counted for within a browser key, as ``VISITOR_RATE_LIMIT`` and the
    concurrent-chat cap count them: the client address of any request on a key with
    ``allowed_origins``; "" for anything else (a server-side credential, an unknown address),
    which is counted for the credential alone. With or without an ``Origin``: a browser key is
    public (it is in the site's pages), and a request without one (curl with the key copied
    from the page) used to be counted for the site alone, so one person could spend the whole
    site's allowance by leaving the header out. (``origin`` is kept for the callers' sake.)"""
    del origin
    return _visitor_address(address) if address and context.allowed_origins else ""


def _visitor_address(address: str) -> str:
    """``address`` as one visitor: an IPv6 address by its /64 network, which one host or home
    is given whole (counted by the full address, it could send from a new one each time and
    never reach its limit); an IPv4-mapped one as IPv4; anything else as it is."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def conversation_lock_key(context: AuthContext, conversation_id: Any) -> str:
    """The lock of one conversation of the caller's tenant ("" for an id that is not a UUID:
    no such conversation, the chat ends with 404). Keyed by tenant too: a key of another
    tenant that sends this conversation's id locks nothing of it."""
    try:
        normalised = uuid.UUID(str(conversation_id))
    except ValueError:
        return ""
    return f"chat-conversation:{context.tenant.id}:{normalised}"


def _limits(context: AuthContext, visitor: str) -> tuple[int, int]:
    """(the credential's limit, the visitor's limit); 0 = none."""
    if not context.allowed_origins:
        return max(int(getattr(settings, "MAX_CONCURRENT_STREAMS_PER_KEY", 0)), 0), 0
    limit = max(int(getattr(settings, "MAX_CONCURRENT_STREAMS_PER_BROWSER_KEY", 0)), 0)
    own = max(int(getattr(settings, "MAX_CONCURRENT_STREAMS_PER_VISITOR", 0)), 0)
    return limit, own if visitor else 0


async def acquire_stream_slot(
    context: AuthContext,
    conversation_id: Any = None,
    *,
    counted: bool = True,
    visitor: str = "",
) -> ChatSlot | None:
    """Count this chat against the credential's concurrent-chat limit (shared by all processes
    through Redis; 429 ``rate_limited`` when it already has that many chats running) and, for
    a browser key's ``visitor`` (``visitor_of``), against that visitor's limit too; with
    ``conversation_id``, lock that conversation for this chat (409 ``conflict`` while another
    chat answers in it). None when there is nothing to hold. ``counted=False``: the lock only
    (the ``chat`` command: it runs as the tenant, with no credential to count)."""
    limit, own = _limits(context, visitor) if counted else (0, 0)
    lock = conversation_lock_key(context, conversation_id) if conversation_id else ""
    if not (limit or own or lock):
        return None
    import redis

    from chatbot_project.errors import Unavailable

    slot = ChatSlot(uuid.uuid4().hex, lock, _visitor_key(context, visitor) if own else "")
    lock_seconds = int(getattr(settings, "CHAT_CONVERSATION_LOCK_SECONDS", 600))
    try:
        taken = await loop_script(_ACQUIRE)(
            keys=[_slot_key(context), lock, slot.visitor],
            args=[slot.member, time.time(), limit, STREAM_SLOT_TTL, lock_seconds, own],
        )  # fmt: skip
    except (redis.RedisError, OSError):
        raise Unavailable(
            "Chat limits are unavailable because Redis cannot be reached; try again shortly."
        ) from None
    if taken in (0, 3):
        raise _over_limit(context, limit if taken == 0 else own, per_visitor=taken == 3)
    if taken == 2:
        raise APIError(
            "This conversation is still answering its previous message; send the next one "
            "once that answer has ended (or cancel it).",
            type="conflict",
            status_code=409,
            headers={"Retry-After": "1"},
        )
    return slot


def _over_limit(context: AuthContext, limit: int, *, per_visitor: bool) -> APIError:
    if per_visitor:
        message = (
            f"One visitor of this site may have {limit} chats answering at once and this one "
            "already has; wait for one of them to finish (limit per visitor)."
        )
    elif context.allowed_origins:
        message = (
            f"This site's key already has {limit} chats answering at once, the most it may "
            "have for all of the site's visitors together; try again in a moment (limit per "
            "site key)."
        )
    else:
        message = f"This credential already has {limit} chats running; wait for one to finish."
    return APIError(message, type="rate_limited", status_code=429, headers={"Retry-After": "1"})


async def release_stream_slot(context: AuthContext, slot: ChatSlot | None) -> None:
    if slot is None:
        return
    try:
        await loop_script(_RELEASE)(
            keys=[_slot_key(context), slot.lock, slot.visitor], args=[slot.member]
        )
    except Exception:  # the slot and the lock expire by themselves
        _not_released()


def release_stream_slot_sync(context: AuthContext, slot: ChatSlot | None) -> None:
    """``release_stream_slot`` for synchronous callers (a response's closers run in a thread)."""
    if slot is None:
        return
    from chatbot_project.redis_client import get_redis

    try:
        get_redis().eval(_RELEASE, 3, _slot_key(context), slot.lock, slot.visitor, slot.member)
    except Exception:  # the slot and the lock expire by themselves
        _not_released()


def _not_released() -> None:
    logging.getLogger("chatbot.chat").warning("could not release a chat slot", exc_info=True)


async def released_after(
    body: AsyncIterator[bytes], context: AuthContext, slot: ChatSlot | None
) -> AsyncIterator[bytes]:
    """Stream ``body`` and give the chat slot back however the stream ends."""
    try:
        async with contextlib.aclosing(body):  # type: ignore[type-var]
            async for part in body:
                yield part
    finally:
        await asyncio.shield(release_stream_slot(context, slot))
