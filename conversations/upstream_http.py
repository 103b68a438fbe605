"""A lean HTTP/1.1 client for the chat model's streamed answers (asyncio streams, no httpx).

Why: relaying an upstream answer is the chat path's hottest loop. Through httpx each request cost
~0.8 ms of client CPU before the first byte (request model, auth and redirect layers, httpcore's
pool scan) and each streamed token another read through anyio's cancel scopes and h11; straight
asyncio streams did the same request in ~0.14 ms (bench/README.md, "Chat streaming").

What it does, and no more: ``POST`` to one origin (http or https, TLS with the process's shared
context), keep-alive connections reused per event loop and origin (idle ones kept up to
``MAX_IDLE`` for ``KEEPALIVE_SECONDS``), a response body framed by ``Transfer-Encoding: chunked``,
``Content-Length`` or the connection's end, a timeout on connecting and on every read (a silent
upstream fails), and a request on a reused connection that the server had already closed is sent
again once on a new one (nothing of the response had arrived). Every failure is an
``UpstreamHTTPError`` whose ``kind`` the provider maps to its sentence. Proxies are not spoken:
``conversations.llm`` uses httpx when one is configured for the upstream (``uses_proxy``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import ssl
import time
import urllib.request
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_IDLE = 256
KEEPALIVE_SECONDS = 30.0
MAX_HEADER_BYTES = 64 * 1024
READ_SIZE = 65536


class UpstreamHTTPError(Exception):
    """``kind``: ``connect`` (refused, unresolvable), ``timeout`` (connect or a read), or
    ``protocol`` (malformed response, connection closed mid-body)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    prefix: str  # the base URL's path, ending in "/"

    @classmethod
    def parse(cls, base_url: str) -> Origin:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, parts.path.rstrip("/") + "/")

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


_PROXY_VARS = tuple(
    name
    for scheme in ("http", "https", "all", "no")
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY")
)


def uses_proxy(base_url: str) -> bool:
    """Whether the environment routes ``base_url`` through a proxy (HTTP(S)_PROXY, ALL_PROXY,
    minus NO_PROXY), as httpx would. Asked per chat: answered from a cache keyed by those
    variables (urllib's own reading walks the whole environment, ~0.4 ms)."""
    return _uses_proxy(base_url, tuple(os.environ.get(name) for name in _PROXY_VARS))


@functools.lru_cache(maxsize=64)
def _uses_proxy(base_url: str, _env: tuple[str | None, ...]) -> bool:
    parts = urlsplit(base_url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0
    reused: bool = False


@dataclass
class Pool:
    """Idle keep-alive connections to one origin, used from one event loop's thread."""

    origin: Origin
    timeout: float
    ssl_context: ssl.SSLContext | None = None
    loop: asyncio.AbstractEventLoop | None = None
    idle: deque[_Conn] = field(default_factory=deque)

    async def _take(self) -> _Conn:
        now = time.monotonic()
        while self.idle:
            conn = self.idle.pop()  # the most recent: the least likely to be closed
            if now - conn.idle_since < KEEPALIVE_SECONDS and not conn.reader.at_eof():
                conn.reused = True
                return conn
            _close(conn)
        return await self._connect()

    async def _connect(self) -> _Conn:
        tls = self.ssl_context if self.origin.scheme == "https" else None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(
                    self.origin.host, self.origin.port, ssl=tls, limit=READ_SIZE,
                    server_hostname=self.origin.host if tls else None,
                )  # fmt: skip
        except TimeoutError:
            raise UpstreamHTTPError("timeout", "connecting timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamHTTPError("connect", f"could not connect: {exc}") from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Conn(reader, writer)

    def close_dead(self) -> None:
        """Its loop has closed: close the idle connections' sockets."""
        from chatbot_project.loop_resources import close_transport

        while self.idle:
            close_transport(self.idle.pop().writer.transport)

    def _give_back(self, conn: _Conn) -> None:
        now = time.monotonic()
        idle = self.idle
        # The oldest first: expired or closed by the server, they would never be reused.
        while idle and (now - idle[0].idle_since >= KEEPALIVE_SECONDS or idle[0].reader.at_eof()):
            _close(idle.popleft())
        if len(idle) >= MAX_IDLE:
            _close(conn)
            return
        conn.idle_since = now
        idle.append(conn)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        """Send the request and read the status line and headers. The caller must
        ``aclose()`` the response (reading it to its end gives the connection back)."""
        head = [f"POST {self.origin.prefix}{path} HTTP/1.1", f"Host: {self.origin.host_header}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for attempt in (1, 2):
            conn = await self._take()
            try:
                conn.writer.write(request)
                status, response_headers = await self._read_head(conn)
            except _StaleConnection:
                _close(conn)
                if attempt == 1:
                    continue  # the server had closed the idle connection: once, on a new one
                raise UpstreamHTTPError("protocol", "closed before a response") from None
            except BaseException:
                _close(conn)
                raise
            return Response(self, conn, status, response_headers)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read_head(self, conn: _Conn) -> tuple[int, dict[str, str]]:
        try:
            async with asyncio.timeout(self.timeout):
                raw = await conn.reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            raise UpstreamHTTPError("timeout", "no response in time") from None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial and conn.reused:
                raise _StaleConnection from None
            raise UpstreamHTTPError("protocol", "the connection closed before a response") from None
        except asyncio.LimitOverrunError:
            raise UpstreamHTTPError("protocol", "response headers too large") from None
        except (OSError, ssl.SSLError) as exc:
            if conn.reused:
                raise _StaleConnection from None
            raise UpstreamHTTPError("protocol", f"connection failed: {exc}") from exc
        lines = raw.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
            raise UpstreamHTTPError("protocol", "not an HTTP/1.x response")
        try:
            status = int(status_line[1])
        except ValueError:
            raise UpstreamHTTPError("protocol", "malformed status line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise UpstreamHTTPError("protocol", "malformed header line")
            headers[name.strip().lower()] = value.strip()
        if status_line[0] == "HTTP/1.0" and "keep-alive" not in headers.get("connection", ""):
            headers["connection"] = "close"
        return status, headers


class _StaleConnection(Exception):
    pass


def _close(conn: _Conn) -> None:
    with contextlib.suppress(Exception):
        conn.writer.close()


class _Watchdog:
    """Fails a read that waits longer than ``timeout``: one timer per response, re-armed
    lazily, where a timeout context per read would schedule and cancel a timer per token."""

    def __init__(self, timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.timeout = timeout
        self.task: asyncio.Task | None = None  # set while a read waits
        self.reader: asyncio.Task | None = None
        self.since = 0.0
        self.fired = False
        self.handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self.since = self.loop.time()
        if self.reader is None:  # a response is read by one task (the chat relay's reader):
            self.reader = asyncio.current_task()  # asked once (CPython 3.11 calls getpid() in it)
        self.task = self.reader
        if self.handle is None:
            self.handle = self.loop.call_at(self.since + self.timeout, self._check)

    def _check(self) -> None:
        self.handle = None
        if self.task is None:
            return  # not reading: the next read re-arms
        due = self.since + self.timeout
        if self.loop.time() < due:
            self.handle = self.loop.call_at(due, self._check)
            return
        self.fired = True
        self.task.cancel()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


class Response:
    """A response whose body is read with ``aiter_bytes()``; ``aclose()`` always."""

    def __init__(self, pool: Pool, conn: _Conn, status: int, headers: dict[str, str]) -> None:
        self._pool, self._conn = pool, conn
        self.status_code, self.headers = status, headers
        self._complete = False
        self._closed = False
        self._watchdog: _Watchdog | None = None

    async def _read(self) -> bytes:
        """The next bytes of the connection (b"" at its end), within the timeout."""
        watchdog = self._watchdog
        assert watchdog is not None
        watchdog.start()
        try:
            return await self._conn.reader.read(READ_SIZE)
        except asyncio.CancelledError:
            if watchdog.fired:  # our timeout, not a cancellation from outside
                watchdog.fired = False
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                raise UpstreamHTTPError("timeout", "the upstream went silent") from None
            raise
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamHTTPError("protocol", f"connection failed: {exc}") from exc
        finally:
            watchdog.task = None

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        self._watchdog = _Watchdog(self._pool.timeout)
        encoding = self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        try:
            if "chunked" in encoding:
                async for block in self._chunked():
                    yield block
            elif length is not None:
                remaining = int(length)
                while remaining > 0:
                    block = await self._read()
                    if not block:
                        raise UpstreamHTTPError("protocol", "the body ended early")
                    if len(block) > remaining:
                        raise UpstreamHTTPError("protocol", "more body than Content-Length")
                    remaining -= len(block)
                    yield block
            else:  # the body runs to the connection's end
                self.headers["connection"] = "close"
                while block := await self._read():
                    yield block
        except ValueError:
            raise UpstreamHTTPError("protocol", "malformed body framing") from None
        finally:
            self._watchdog.close()
        self._complete = True

    async def _chunked(self) -> AsyncIterator[bytes]:
        """The data of a chunked body, one block per chunk, parsed from what each read returns
        (one read per token when the upstream sends a chunk per token); trailers dropped."""
        buf = b""
        while True:
            eol = buf.find(b"\r\n")
            if eol < 0:
                if len(buf) > MAX_HEADER_BYTES:
                    raise UpstreamHTTPError("protocol", "malformed chunk size line")
                buf += await self._more()
                continue
            size = int(buf[:eol].split(b";", 1)[0].strip(), 16)  # ValueError: malformed
            if size == 0:
                rest = buf[eol + 2 :]
                while not rest.startswith(b"\r\n") and b"\r\n\r\n" not in rest:
                    if len(rest) > MAX_HEADER_BYTES:
                        raise UpstreamHTTPError("protocol", "trailer fields too large")
                    rest += await self._more()
                return
            end = eol + 2 + size
            while len(buf) < end + 2:
                buf += await self._more()
            if buf[end : end + 2] != b"\r\n":
                raise UpstreamHTTPError("protocol", "malformed chunk")
            yield buf[eol + 2 : end]
            buf = buf[end + 2 :]

    async def _more(self) -> bytes:
        data = await self._read()
        if not data:
            raise UpstreamHTTPError("protocol", "the body ended early")
        return data

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._complete and "close" not in self.headers.get("connection", "").lower():
            self._pool._give_back(self._conn)
        else:  # unfinished: closing the connection is what tells the upstream to stop
            _close(self._conn)


def loop_pool(base_url: str, timeout: float, ssl_context: Any) -> Pool:
    """This event loop's pool for ``base_url`` (made on first use; its idle connections are
    closed when the loop is: ``chatbot_project.loop_resources``)."""
    from chatbot_project.loop_resources import for_loop

    return for_loop(
        (Pool, base_url, timeout),
        lambda: Pool(Origin.parse(base_url), timeout, ssl_context, loop=asyncio.get_running_loop()),
        Pool.close_dead,
    )
