"""A write timeout for the chat routes' responses (``SSE_WRITE_TIMEOUT_SECONDS``).

An ASGI server's ``send`` waits on the transport's flow control: a client that stops reading
without closing its connection (a frozen tab, a stalled proxy, or on purpose) held its chat for
ever, its concurrency slot (``conversations.slots``: 20 per key, 200 per browser key, 3 per
visitor), its conversation's lock and its upstream model request, and an answer the model had
finished was stored as ``stop`` though the client never got it.

Here a response body ``send`` that has waited ``SSE_WRITE_TIMEOUT_SECONDS`` gives up, and from
then on the request behaves as if the client had disconnected: ``receive()`` answers
``http.disconnect`` (the call already waiting included), which both request paths listen for
(the fast lane's ``fastlane.until_disconnect``, Django's ASGI handler), so the chat task is
cancelled as on any disconnect: the partial answer is stored as ``cancelled``, the upstream
request closed, the slot and the lock given back. Later sends are dropped.

Per chunk it costs a clock read and two attribute writes: one ``loop.call_later`` timer per
stream, armed at a send and re-armed only while sends go on (``asyncio.wait_for`` would make a
task per chunk). The receive call that waits for the disconnect runs in a task of its own (one
per request, once the body is read) so that it can be interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import Any

from django.conf import settings

PATHS = frozenset({"/v1/chat", "/v1/openai/chat/completions"})
_DISCONNECT = {"type": "http.disconnect"}

log = logging.getLogger("chatbot.http")


class _Watch:
    __slots__ = (
        "body_read", "gone", "inner_receive", "inner_send", "loop", "path", "receiving",
        "sending", "since", "timeout", "timer",
    )  # fmt: skip

    def __init__(self, receive: Any, send: Any, timeout: float, path: str) -> None:
        self.inner_receive = receive
        self.inner_send = send
        self.timeout = timeout
        self.path = path
        self.loop = asyncio.get_running_loop()
        self.body_read = False
        self.gone = False
        self.sending = False
        self.since = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.receiving: asyncio.Task | None = None

    async def receive(self) -> Any:
        if self.gone:
            return _DISCONNECT
        if not self.body_read:  # the request body: answered at once, no task
            message = await self.inner_receive()
            if message.get("type") != "http.request" or not message.get("more_body"):
                self.body_read = True
            return message
        # Past the body a receive only waits for the client to leave: interruptible.
        task = self.receiving = self.loop.create_task(self.inner_receive())
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.gone and task.cancelled() and not (current and current.cancelling()):
                return _DISCONNECT  # we gave up on the client (not a cancellation of ours)
            raise
        finally:
            self.receiving = None

    async def send(self, message: Any) -> None:
        if self.gone:
            return None
        if message["type"] != "http.response.body":
            return await self.inner_send(message)
        self.since = self.loop.time()
        self.sending = True
        if self.timer is None:
            self.timer = self.loop.call_later(self.timeout, self._check)
        try:
            await self.inner_send(message)
        finally:
            self.sending = False

    def _check(self) -> None:
        self.timer = None
        if not self.sending or self.gone:
            return  # the next send arms the timer again
        waited = self.loop.time() - self.since
        if waited < self.timeout:
            self.timer = self.loop.call_later(self.timeout - waited, self._check)
            return
        self.gone = True
        log.warning(
            "%s: the client read nothing for %g s (SSE_WRITE_TIMEOUT_SECONDS): treated as "
            "gone, its chat cancelled", self.path, self.timeout,
        )  # fmt: skip
        if self.receiving is not None:
            self.receiving.cancel()

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.receiving is not None:
            self.receiving.cancel()


def _abort_connection(send: Any) -> bool:
    """Reset the connection of a client given up on, where the server's ``send`` shows it.

    ASGI has no message for "drop this connection", and neither ending the response (the final
    send waits on the same flow control) nor raising helps: Uvicorn then closes its transport
    gracefully, which waits for the client to read the buffered answer, so the socket stayed
    open until the client read or closed (and the return logged "ASGI callable returned without
    completing response"). Uvicorn's ``send`` is its request cycle's bound method (the proxy
    headers middleware hands it on unwrapped): once the application has returned (its chat
    cancelled by the disconnect while its send still waited, as before: aborting sooner let the
    sends return and the chat run to its end, stored as ``stop``), aborting that cycle's
    transport discards the buffer and closes the socket with a reset (SO_LINGER 0: no orphan
    keeps retrying the unread bytes), and Uvicorn sees a disconnect (nothing is logged). A
    request body sent chunked reaches this through ``bodylimit``'s wrapper: left alone.
    Other servers' connections are left alone (Daphne's send has no flow control: it never
    waits, so the timeout does not fire there)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort") or transport.is_closing():
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(Exception):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return True


def write_timeout(app: Any) -> Any:
    """``app`` with the write timeout on the chat routes (``PATHS``); other requests untouched."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        timeout = settings.SSE_WRITE_TIMEOUT_SECONDS
        if not timeout or scope["type"] != "http" or scope.get("path") not in PATHS:
            return await app(scope, receive, send)
        watch = _Watch(receive, send, timeout, scope["path"])
        try:
            await app(scope, watch.receive, watch.send)
        finally:
            watch.close()
            if watch.gone and _abort_connection(send):
                await asyncio.sleep(0)  # the server sees the disconnect before it looks

    return wrapped
