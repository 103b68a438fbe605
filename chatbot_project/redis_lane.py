"""A lean Redis client for the event loop's Lua scripts: one multiplexed connection per loop.

Why: the chat path runs three scripts per chat on the loop (the rate-limit hit with the cached
question vector, the chat slot, its release). Through redis-py's asyncio client each call went
through its retry wrapper, a timeout context, a blocking connection pool and the RESP3 parser:
~13% of the time the event loop held the GIL at 50 new chats/s (py-spy, bench/README.md,
"Capacity"), ~0.3 ms per call, while the commands themselves take microseconds in Redis. Here a
call encodes one EVALSHA, writes it to the loop's single connection and waits on a future; the
replies come back in order (Redis answers one connection's commands in the order sent), so
``data_received`` resolves the oldest pending future with each reply. Scripts are atomic in
Redis, so sharing one connection changes nothing about their semantics.

Scope: ``redis://`` and ``unix://`` URLs (host, port, db, username, password). Anything else
(``rediss://`` TLS, or ``REDIS_LANE=false``) keeps redis-py's client (``redis_client.loop_script``
decides). Errors are redis-py's classes, so callers' handling is unchanged: ``ConnectionError``
when Redis cannot be reached or the connection drops (every pending call fails; the next call
reconnects), ``TimeoutError`` when a reply is overdue by ``REPLY_TIMEOUT`` seconds (the
connection is then dropped, as a stuck socket would be), ``ResponseError`` for a script error.
A call cancelled by its caller still consumes its reply, so the stream stays in step.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from typing import Any

from redis.connection import parse_url
from redis.exceptions import ConnectionError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

CONNECT_TIMEOUT = 1.0
REPLY_TIMEOUT = 2.0  # redis-py's socket_timeout in redis_client
_CRLF = b"\r\n"


def supported(url: str) -> bool:
    return url.startswith(("redis://", "unix://"))


def _encode(args: tuple[Any, ...]) -> bytes:
    """One command in RESP: an array of bulk strings (values encoded as redis-py does)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, bool):
            raise TypeError("booleans are not Redis values")
        elif isinstance(arg, int):
            data = b"%d" % arg
        elif isinstance(arg, float):
            data = repr(arg).encode()
        else:
            raise TypeError(f"cannot send {type(arg).__name__} to Redis")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Incomplete(Exception):
    pass


def _parse(buf: bytes | bytearray, pos: int) -> tuple[Any, int]:
    """One RESP2 reply at ``pos``: (value, position after it); ``_Incomplete`` if it has not
    all arrived. Errors are returned as ``ResponseError`` instances, not raised."""
    end = buf.find(_CRLF, pos)
    if end < 0:
        raise _Incomplete
    kind, line = buf[pos : pos + 1], bytes(buf[pos + 1 : end])
    pos = end + 2
    if kind == b":":
        return int(line), pos
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, pos
        if len(buf) < pos + size + 2:
            raise _Incomplete
        return bytes(buf[pos : pos + size]), pos + size + 2
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, pos
        items = []
        for _ in range(count):
            item, pos = _parse(buf, pos)
            items.append(item)
        return items, pos
    if kind == b"+":
        return line, pos
    if kind == b"-":
        return ResponseError(line.decode(errors="replace")), pos
    raise ConnectionError(f"unexpected Redis reply type {kind!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.pending: collections.deque[tuple[asyncio.Future, float]] = collections.deque()
        self.buf = bytearray()
        self.closed = False
        self._watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, data: bytes) -> asyncio.Future:
        future = self.loop.create_future()
        self.pending.append((future, self.loop.time() + REPLY_TIMEOUT))
        assert self.transport is not None
        self.transport.write(data)
        if self._watchdog is None:
            self._watchdog = self.loop.call_later(REPLY_TIMEOUT, self._check)
        return future

    def _check(self) -> None:
        """One timer per connection, not one per call: drop the connection when the oldest
        reply is overdue."""
        self._watchdog = None
        if not self.pending:
            return
        due = self.pending[0][1]
        if self.loop.time() >= due:
            self._fail(RedisTimeoutError("Timeout reading from Redis"))
            if self.transport is not None:
                self.transport.abort()
            return
        self._watchdog = self.loop.call_at(due, self._check)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos = 0
        try:
            while pos < len(buf) and self.pending:
                value, pos = _parse(buf, pos)
                future = self.pending.popleft()[0]
                if not future.done():  # a cancelled caller's reply is consumed all the same
                    if isinstance(value, ResponseError):
                        future.set_exception(value)
                    else:
                        future.set_result(value)
        except _Incomplete:
            pass
        except ConnectionError as exc:
            self._fail(exc)
            if self.transport is not None:
                self.transport.abort()
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"Connection to Redis lost: {exc or 'closed'}"))

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self.pending:
            future = self.pending.popleft()[0]
            if not future.done():
                future.set_exception(exc)


class LoopClient:
    """The connection of one event loop (made on first use, remade after it drops)."""

    def __init__(self, url: str) -> None:
        self.options = parse_url(url)
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Future | None = None

    def close_dead(self) -> None:
        """Its loop has closed: close the connection's socket (``loop_resources``)."""
        from chatbot_project.loop_resources import close_transport

        if self._protocol is not None:
            close_transport(self._protocol.transport)

    async def call(self, *args: Any) -> Any:
        protocol = self._protocol
        if protocol is None or protocol.closed:
            protocol = await self._connect()
        return await protocol.send(_encode(args))

    async def _connect(self) -> _Protocol:
        if self._connecting is None:  # the first caller connects, the others wait for it
            self._connecting = asyncio.ensure_future(self._open())
        connecting = self._connecting
        try:
            return await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        opts = self.options
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                if opts.get("path"):
                    _, protocol = await loop.create_unix_connection(
                        lambda: _Protocol(loop), opts["path"]
                    )
                else:
                    _, protocol = await loop.create_connection(
                        lambda: _Protocol(loop), opts.get("host", "localhost"),
                        int(opts.get("port", 6379)),
                    )  # fmt: skip
                try:
                    await self._setup(protocol)
                except BaseException:  # refused AUTH/SELECT, timeout: no half-set-up socket left
                    if protocol.transport is not None:
                        protocol.transport.abort()
                    raise
        except OSError as exc:  # (asyncio.timeout's TimeoutError is an OSError)
            raise ConnectionError(f"Error connecting to Redis: {exc or 'timed out'}") from None
        self._protocol = protocol
        return protocol

    async def _setup(self, protocol: _Protocol) -> None:
        opts = self.options
        setup = []
        if opts.get("password"):
            user = [opts["username"]] if opts.get("username") else []
            setup.append(protocol.send(_encode(("AUTH", *user, opts["password"]))))
        if opts.get("db"):
            setup.append(protocol.send(_encode(("SELECT", int(opts["db"])))))
        for reply in setup:
            await reply


class Script:
    """``await script(keys=[...], args=[...])``, like redis-py's registered scripts: EVALSHA,
    and EVAL when Redis does not know the script yet (after a restart or SCRIPT FLUSH)."""

    def __init__(self, client: LoopClient, source: str) -> None:
        self.client, self.source = client, source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, keys: list[Any] = (), args: list[Any] = ()) -> Any:  # type: ignore[assignment]
        try:
            return await self.client.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        return await self.client.call("EVAL", self.source, len(keys), *keys, *args)
