"""One shared Redis client per process (sync), for rate limits, caches and health."""

from __future__ import annotations

import functools

import redis
from django.conf import settings


@functools.cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
    )


@functools.cache
def get_async_redis():
    import redis.asyncio as aredis

    return aredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
