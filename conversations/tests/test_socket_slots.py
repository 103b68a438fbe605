"""``conversations.socket_slots``: a socket's place lapses once its process stops vouching for
it (a crashed server's sockets do not hold a key's places for ever), while an open socket's
place is refreshed and outlives the TTL; ``0`` turns a cap off (no Redis call)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync

from chatbot_project.errors import APIError
from chatbot_project.redis_client import get_redis
from conversations import socket_slots

SERVER_KEY = SimpleNamespace(allowed_origins=[], principal_id="key:socket-slots-test")
SITE_KEY = SimpleNamespace(allowed_origins=["https://shop.example"], principal_id="key:site-test")


def test_a_crashed_processes_sockets_lapse(settings):
    settings.WS_MAX_SOCKETS_PER_KEY = 1
    redis = get_redis()

    async def run():
        slot = await socket_slots.open_socket(SERVER_KEY, "")
        with pytest.raises(APIError) as refused:
            await socket_slots.open_socket(SERVER_KEY, "")
        assert refused.value.status_code == 429
        # Its process died: nothing refreshed it for longer than the TTL.
        socket_slots._refresher().open.clear()
        redis.zadd(slot.keys[0], {slot.member: time.time() - socket_slots.SOCKET_SLOT_TTL - 1})
        fresh = await socket_slots.open_socket(SERVER_KEY, "")
        await socket_slots.close_socket(fresh)
        assert redis.zcard(slot.keys[0]) == 0

    async_to_sync(run)()


def test_open_sockets_are_refreshed(settings, monkeypatch):
    settings.WS_MAX_SOCKETS_PER_BROWSER_KEY = 5
    settings.WS_MAX_SOCKETS_PER_VISITOR = 1
    monkeypatch.setattr(socket_slots, "REFRESH_SECONDS", 0.05)
    redis = get_redis()

    async def run():
        slot = await socket_slots.open_socket(SITE_KEY, "203.0.113.7")
        assert all(slot.keys)
        old = time.time() - socket_slots.SOCKET_SLOT_TTL + 5
        for key in slot.keys:
            redis.zadd(key, {slot.member: old})
        await asyncio.sleep(0.3)
        assert all(redis.zscore(key, slot.member) > old + 4 for key in slot.keys)
        with pytest.raises(APIError, match="One visitor of this site may have 1"):
            await socket_slots.open_socket(SITE_KEY, "203.0.113.7")
        other = await socket_slots.open_socket(SITE_KEY, "203.0.113.8")
        for each in (slot, other):
            await socket_slots.close_socket(each)
        await asyncio.sleep(0.2)  # a refresh after the close does not add it back
        assert not any(redis.zcard(key) for key in (*slot.keys, *other.keys))

    async_to_sync(run)()


def test_zero_turns_the_caps_off(settings):
    settings.WS_MAX_SOCKETS_PER_KEY = 0
    settings.WS_MAX_SOCKETS_PER_BROWSER_KEY = 0
    settings.WS_MAX_SOCKETS_PER_VISITOR = 0

    async def run():
        assert await socket_slots.open_socket(SERVER_KEY, "") is None
        assert await socket_slots.open_socket(SITE_KEY, "203.0.113.7") is None

    async_to_sync(run)()
