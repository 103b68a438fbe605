"""Ends open chats whose credential stops working, with one check per credential, not per stream.

Every open chat (SSE, JSON, WebSocket, OpenAI-compatible) must end within seconds when its key is
revoked or expires, or its tenant is suspended. Each stream used to re-check its own credential
every ``CHAT_REVALIDATE_SECONDS`` (one query through the chat DB threads): 2,000 open streams
meant 1,000 queries and thread hops per second, which is what saturated one process in the
capacity benchmark. Now one ``Watcher`` per event loop checks each *distinct* credential that has
chats open once per interval, in one thread hop, and wakes the chats of those that failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from conversations.dbthreads import db_sync
from tenants.context import AuthContext

log = logging.getLogger("chatbot.chat")


def _still_valid(contexts: list[AuthContext]) -> list[bool]:
    from tenants.auth import context_still_valid

    return [context_still_valid(c) for c in contexts]


class Watcher:
    """Credentials with open chats on one event loop, re-checked every ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._watched: dict[tuple[Any, str, str], tuple[AuthContext, set[asyncio.Event]]] = {}
        self._task: asyncio.Task | None = None

    @staticmethod
    def _key(context: AuthContext) -> tuple[Any, str, str]:
        # One staff user's sign-in sessions end separately (logout): kept apart.
        return (context.tenant.id, context.principal_id, context.session_id)

    def watch(self, context: AuthContext) -> asyncio.Event:
        """An event set once ``context`` is no longer valid; call ``unwatch`` when done."""
        revoked = asyncio.Event()
        self._watched.setdefault(self._key(context), (context, set()))[1].add(revoked)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return revoked

    def unwatch(self, context: AuthContext, revoked: asyncio.Event) -> None:
        key = self._key(context)
        entry = self._watched.get(key)
        if entry is not None:
            entry[1].discard(revoked)
            if not entry[1]:
                del self._watched[key]

    async def _run(self) -> None:
        while self._watched:
            await asyncio.sleep(self.interval)
            keys = list(self._watched)
            contexts = [self._watched[k][0] for k in keys]
            if not contexts:
                continue
            try:
                alive = await db_sync(_still_valid)(contexts)
            except Exception:  # the database is down: keep the chats, check again next time
                log.warning("could not re-check credentials of open chats", exc_info=True)
                continue
            for key, ok in zip(keys, alive, strict=True):
                if not ok:
                    _, events = self._watched.pop(key, (None, set()))
                    for event in events:
                        event.set()


_watchers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def watcher(interval: float) -> Watcher:
    """This event loop's watcher (its task and events belong to the loop)."""
    loop = asyncio.get_running_loop()
    found = _watchers.get(loop)
    if found is None or found.interval != interval:
        found = _watchers[loop] = Watcher(interval)
    return found


class CredentialRevoked(Exception):
    pass


REVOKED_MESSAGE = (
    "The credential was revoked, expired or its tenant suspended while the answer streamed."
)


PING = object()  # yielded by a Relay when the upstream was silent for ping_seconds
# The relay queue's entry kinds:
_ITEM, _ENDED, _FAILED, _REVOKED, _PING = (object() for _ in range(5))


class Relay:
    """Relay ``upstream`` until it ends or the credential stops working: the loop's revocation
    watcher re-checks it every CHAT_REVALIDATE_SECONDS, so a revoked key or suspended tenant
    ends the answer within that time, even while the model is still silent. With
    ``ping_seconds``, yields ``PING`` whenever the upstream says nothing for that long.

    One reader task per stream moves the upstream's chunks into a queue; the relay waits on the
    queue; a timer drops a ping marker into it after ``ping_seconds`` without an item, and the
    watcher's revocation drops its marker there too. (It used to start a task and an
    ``asyncio.wait`` per chunk, then a timeout per queue read: the relay's CPU per token is what
    bounds how many streams a process holds.) The reader starts when the relay is
    made, so the upstream request is already on its way while the caller sends its first
    events. ``aclose()`` (always, in a ``finally``) cancels the reader, which closes the
    upstream response.
    """

    def __init__(
        self, upstream: AsyncIterator[Any], context: AuthContext, ping_seconds: float | None
    ) -> None:
        interval = float(getattr(settings, "CHAT_REVALIDATE_SECONDS", 2.0))
        self._context, self._ping = context, ping_seconds
        # Only a credential can be revoked: the operator's context of the `chat` command holds
        # none, and context_still_valid calls such a context invalid (it ended every terminal
        # answer longer than the interval with "The credential was revoked ...").
        credential = context.api_key is not None or context.user is not None
        self._watch = watcher(interval) if interval > 0 and credential else None
        self._revoked = self._watch.watch(context) if self._watch is not None else asyncio.Event()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()  # of the last item or ping
        self._ping_timer: asyncio.TimerHandle | None = None
        if ping_seconds:
            self._ping_timer = self._loop.call_at(self._last + ping_seconds, self._ping_check)
        self._reader = asyncio.ensure_future(self._read(upstream))
        self._revoked_wait = asyncio.ensure_future(self._revoked.wait())
        self._revoked_wait.add_done_callback(lambda _: self._queue.put_nowait((_REVOKED, None)))

    def _ping_check(self) -> None:
        """A ping when nothing came for ``ping_seconds``: one timer per relay, re-armed
        lazily, where a timeout around each queue read scheduled and cancelled one per token."""
        assert self._ping is not None
        now, due = self._loop.time(), self._last + self._ping
        if now >= due:
            self._queue.put_nowait((_PING, None))
            self._last, due = now, now + self._ping
        self._ping_timer = self._loop.call_at(due, self._ping_check)

    async def _read(self, upstream: AsyncIterator[Any]) -> None:
        queue, loop = self._queue, self._loop
        try:
            async for item in upstream:
                self._last = loop.time()
                queue.put_nowait((_ITEM, item))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the relay re-raises it in the consumer's task
            queue.put_nowait((_FAILED, exc))
        else:
            queue.put_nowait((_ENDED, None))

    async def __aiter__(self) -> AsyncIterator[Any]:
        queue, revoked = self._queue, self._revoked
        while True:
            kind, value = await queue.get()
            if kind is _PING:
                yield PING
            elif kind is _ITEM:
                if revoked.is_set():
                    raise CredentialRevoked
                yield value
            elif kind is _ENDED:
                return
            elif kind is _FAILED:
                raise value
            else:
                raise CredentialRevoked

    async def aclose(self) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None
        if self._watch is not None:
            self._watch.unwatch(self._context, self._revoked)
            self._watch = None
        for task in (self._reader, self._revoked_wait):
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
