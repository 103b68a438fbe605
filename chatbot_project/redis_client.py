"""Shared Redis clients: one per process (sync), one per event loop (async), for rate limits,
caches, chat slots and health."""

from __future__ import annotations

import asyncio
import functools
import weakref

import redis
from django.conf import settings


@functools.cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
    )


_loop_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def loop_redis():
    """The running event loop's async client: redis.asyncio connections belong to the loop
    that made them (tests and management commands run several loops in one process)."""
    import redis.asyncio as aredis

    loop = asyncio.get_running_loop()
    client = _loop_clients.get(loop)
    if client is None:
        client = aredis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2
        )
        _loop_clients[loop] = client
    return client


_loop_scripts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def loop_script(source: str):
    """The Lua script ``source`` registered on the running loop's client (once per loop)."""
    scripts = _loop_scripts.setdefault(asyncio.get_running_loop(), {})
    script = scripts.get(source)
    if script is None:
        script = scripts[source] = loop_redis().register_script(source)
    return script
