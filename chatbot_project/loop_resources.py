"""Objects kept per event loop (connections, pools), and their sockets closed when the loop dies.

Why: the lean Redis connection (``redis_lane``), redis-py's asyncio pool (``redis_client``) and
the upstream keep-alive connections (``conversations.upstream_http``, and ``conversations.llm``'s
httpx pools behind a proxy) belong to the event loop
that made them. A server runs one loop for its life, but tests and management commands run many:
every ``async_to_sync`` without a running loop makes a loop, uses it once and closes it. Nothing
closed those loops' connections: the registries kept them (a ``WeakKeyDictionary`` keyed by the
loop never lets go of a value that refers to its loop, as a transport does), and a closed loop
can no longer run a transport's close. The test process ended holding over 1,024 sockets (99
after ``conversations/tests/test_fastlane.py`` alone).

Here each loop's objects live in one registry. When a loop not seen before asks for its first
object, the loops closed since are swept: their objects' ``close_dead`` functions close the
sockets directly (as a transport's finaliser would) and the registry lets go of them. So at most
the last dead loop's few sockets stay open, until the next loop comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_state: dict[asyncio.AbstractEventLoop, dict[Any, tuple[Any, Callable[[Any], None] | None]]] = {}


def for_loop(key: Any, make: Callable[[], Any], close_dead: Callable[[Any], None] | None = None):
    """The running loop's object for ``key``, made by ``make()`` on first use. ``close_dead(obj)``
    is called once the loop is closed (it must not need the loop: see ``close_transport``)."""
    loop = asyncio.get_running_loop()
    objects = _state.get(loop)
    if objects is None:
        with _lock:  # loops of several threads (asgiref's) may come at once
            sweep()
            objects = _state.setdefault(loop, {})
    entry = objects.get(key)
    if entry is None:
        entry = objects[key] = (make(), close_dead)
    return entry[0]


def sweep() -> int:
    """Close the objects of every closed loop and forget them; returns how many loops."""
    dead = [loop for loop in list(_state) if loop.is_closed()]
    for loop in dead:
        for obj, close_dead in _state.pop(loop, {}).values():
            if close_dead is not None:
                with contextlib.suppress(Exception):
                    close_dead(obj)
    return len(dead)


def close_transport(transport: Any) -> None:
    """Close a transport's socket now, whether or not its loop can still run. A closed loop
    cannot run ``transport.close()`` (it schedules the socket's close on the loop), so the
    socket is closed as the transport's own finaliser does; a TLS transport's socket is that of
    the transport under it."""
    if transport is None:
        return
    with contextlib.suppress(Exception):
        transport.abort()  # stops reading; on a closed loop it raises after marking itself closed
    for _ in range(3):
        sock = getattr(transport, "_sock", None)
        if sock is not None:
            sock.close()
            return
        transport = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
        if transport is None:
            return


def close_httpx_client(client: Any) -> None:
    """``close_dead`` for an httpx.AsyncClient: the socket of each connection of its pool (httpx
    and httpcore keep them several layers down; anyio's asyncio stream gives out the
    transport's socket wrapper, whose own socket is closed)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    for conn in list(getattr(pool, "connections", ())):
        stream = getattr(getattr(conn, "_connection", None), "_network_stream", None)
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            getattr(sock, "_sock", sock).close()


def close_redis_pool(client: Any) -> None:
    """``close_dead`` for a redis.asyncio client: every connection of its pool."""
    pool = client.connection_pool
    for conn in [*pool._get_free_connections(), *pool._get_in_use_connections()]:
        writer = getattr(conn, "_writer", None)
        if writer is not None:
            close_transport(writer.transport)
