"""Where the chat path's database work runs (see ``db_sync``).

Two thread pools, one persistent connection per thread: ``db_sync`` for the work a chat waits
on before its first event (bot, history, retrieval: reads) and ``db_write`` for the chat's
writes (its start and its answer). Apart because commits wait for the disk: on this VM a WAL
flush now and then took 0.3 s, every thread of a shared pool sat in a commit, and new chats'
reads queued behind ~50 writes (first event p95 0.4-7.5 s at 100 new chats/s; bench/README.md).
With the writes on their own pool a slow disk delays answers being stored, never a new chat."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections


def _thread_sensitive() -> bool:
    # Under Django's ASGI handler a thread-sensitive call runs in a thread of its own per
    # request, and that thread keeps its database connection for as long as the stream stays
    # open: 2,000 open streams would need 2,000 PostgreSQL connections. The chat path therefore
    # runs its DB work in the event loop's shared worker threads (a handful of persistent
    # connections). Tests keep thread-sensitive calls so they see the test transaction.
    return bool(getattr(settings, "CHAT_DB_THREAD_SENSITIVE", settings.TESTING))


_thread_state = threading.local()
CONNECTION_CHECK_SECONDS = 10.0


def db_sync(fn: Any, *, pool: str = "read") -> Any:
    """``sync_to_async`` for database work on the chat path (see ``_thread_sensitive``);
    ``pool="write"`` for the chat's writes (see the module's docstring)."""
    if _thread_sensitive():
        return sync_to_async(fn)

    def run(*args: Any, **kwargs: Any) -> Any:
        # Drop broken or expired connections of this worker thread now and then (with health
        # checks on, each call costs a `SELECT 1` on the next query, so not on every call).
        now = time.monotonic()
        if now - getattr(_thread_state, "checked", 0.0) > CONNECTION_CHECK_SECONDS:
            _thread_state.checked = now
            close_old_connections()
        try:
            return fn(*args, **kwargs)
        except DatabaseError:
            _thread_state.checked = 0.0  # check again before the next call
            raise

    executor = _db_executor(pool)

    async def call(*args: Any, **kwargs: Any) -> Any:
        # asgiref's sync_to_async, lean: the job runs in this pool's thread with a copy of
        # the caller's context and posts its outcome back to the loop, nothing else (no
        # shield, no context written back: nothing here sets context variables). Measured
        # beside a bare psycopg call, its hop added ~0.1 ms where sync_to_async's added
        # ~0.25-0.3 ms. A cancelled caller cancels a job not yet started, as sync_to_async;
        # a started one finishes in its thread, its outcome dropped.
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        context = contextvars.copy_context()

        def job() -> None:
            try:
                result = context.run(run, *args, **kwargs)
            except BaseException as exc:  # handed to the awaiting task
                _post(loop, future, exc, None)
            else:
                _post(loop, future, None, result)

        submitted = executor.submit(job)
        try:
            return await future
        except asyncio.CancelledError:
            submitted.cancel()
            raise

    return call


def _post(loop: asyncio.AbstractEventLoop, future: asyncio.Future, exc: Any, result: Any) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody awaits this any more
        loop.call_soon_threadsafe(_settle, future, exc, result)


def _settle(future: asyncio.Future, exc: Any, result: Any) -> None:
    if future.done():  # the caller was cancelled
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def db_write(fn: Any) -> Any:
    """``db_sync`` on the writes' pool."""
    return db_sync(fn, pool="write")


_pools: dict[str, ThreadPoolExecutor] = {}
_SIZES = {"read": ("CHAT_DB_THREADS", 16), "write": ("CHAT_WRITE_THREADS", 4)}


def _db_executor(pool: str = "read") -> ThreadPoolExecutor:
    """The chat path's own DB threads (one persistent connection each): sized apart from the
    loop's default executor (cores + 4 threads), which queues chats when PostgreSQL is slow."""
    executor = _pools.get(pool)
    if executor is None:
        setting, default = _SIZES[pool]
        executor = _pools[pool] = ThreadPoolExecutor(
            max_workers=int(getattr(settings, setting, default)), thread_name_prefix=f"chat-{pool}"
        )
    return executor
