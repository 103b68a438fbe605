"""Shared Redis clients: one per process (sync), one per event loop (async), for rate limits,
caches, chat slots and health.

Both pools hold up to ``REDIS_MAX_CONNECTIONS`` connections and make a caller wait (up to
``POOL_WAIT_SECONDS``) for a free one rather than fail: redis-py's own pools stop at 100 and then
raise "Too many connections". Under load (2,000 open streams, 100 new chats a second, an event
loop turning every ~100 ms) over 100 of the loop's commands were in flight at once, and chats
failed with it (slot releases, rate-limit hits: bench/README.md, "Capacity").

Both pools' connections share one ``DriverInfo`` (the name and version redis-py sends with
CLIENT SETINFO): made per connection, it looked redis-py's version up in the installed packages'
metadata each time, 0.40 ms of the event loop per new connection (0.014 ms shared), and a burst
of chats grows the loop's pool by hundreds of connections."""

from __future__ import annotations

import functools

import redis
from django.conf import settings
from redis.driver_info import DriverInfo

from chatbot_project import loop_resources

POOL_WAIT_SECONDS = 5.0
_OPTIONS = {
    "socket_connect_timeout": 1, "socket_timeout": 2, "timeout": POOL_WAIT_SECONDS,
    "driver_info": DriverInfo(),
}  # fmt: skip


@functools.cache
def get_redis() -> redis.Redis:
    pool = redis.BlockingConnectionPool.from_url(
        settings.REDIS_URL, max_connections=settings.REDIS_MAX_CONNECTIONS,
        health_check_interval=30, **_OPTIONS,
    )  # fmt: skip
    return redis.Redis(connection_pool=pool)


def loop_redis():
    """The running event loop's async client: redis.asyncio connections belong to the loop
    that made them (tests and management commands run several loops in one process; a closed
    loop's connections are closed by ``loop_resources``)."""
    return loop_resources.for_loop(
        _loop_redis_key, _new_loop_redis, loop_resources.close_redis_pool
    )


_loop_redis_key = object()


def _new_loop_redis():
    import redis.asyncio as aredis

    pool = aredis.BlockingConnectionPool.from_url(
        settings.REDIS_URL, max_connections=settings.REDIS_MAX_CONNECTIONS, **_OPTIONS
    )
    return aredis.Redis(connection_pool=pool)


_scripts_key = object()


def loop_script(source: str):
    """The Lua script ``source`` for the running loop (made once per loop): on the loop's lean
    multiplexed connection (``chatbot_project.redis_lane``) for ``redis://`` and ``unix://``
    URLs unless ``REDIS_LANE`` is off, else registered on redis-py's client. Either way
    ``await script(keys=[...], args=[...])`` with redis-py's exception classes."""
    scripts = loop_resources.for_loop(_scripts_key, dict)
    script = scripts.get(source)
    if script is None:
        from chatbot_project import redis_lane

        if getattr(settings, "REDIS_LANE", True) and redis_lane.supported(settings.REDIS_URL):
            client = loop_resources.for_loop(
                redis_lane.LoopClient,
                lambda: redis_lane.LoopClient(settings.REDIS_URL),
                redis_lane.LoopClient.close_dead,
            )
            script = redis_lane.Script(client, source)
        else:
            script = loop_redis().register_script(source)
        scripts[source] = script
    return script
