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
import logging
import weakref
from typing import Any

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
        self._watched: dict[tuple[Any, str], tuple[AuthContext, set[asyncio.Event]]] = {}
        self._task: asyncio.Task | None = None

    @staticmethod
    def _key(context: AuthContext) -> tuple[Any, str]:
        return (context.tenant.id, context.principal_id)

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
