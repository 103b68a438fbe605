"""The only outbound HTTP fetcher for user-supplied URLs, built so it can't be turned against us.

- http and https only; no credentials in the URL.
- The host is resolved once and EVERY address it resolves to must be public: loopback, private,
  link-local (169.254.169.254), shared (100.64/10), multicast, reserved, unspecified and
  documentation ranges are refused for IPv4 and IPv6, including IPv4-mapped/compatible, 6to4,
  Teredo and NAT64 forms. Numeric spellings (``2130706433``, ``0x7f.1``, ``017700000001``) are
  resolved by the C library like any host name, so they are checked as the address they mean.
- The connection goes to the address that was checked (TLS still verifies the host name), so a
  second DNS answer cannot swap in a private address (DNS rebinding).
- Redirects are followed by hand, at most 5, and each target goes through the same checks.
- Size cap (Content-Length and while streaming), a socket timeout plus an overall deadline, no
  compression (no decompression bombs), and a content-type check. The deadline is a timer that
  shuts the socket down: a server trickling its headers or body a byte at a time never waits
  for the socket timeout, which each byte restarts. A body shorter than its Content-Length is
  an interrupted download, not a document.
``settings.FETCH_ALLOWED_NETWORKS`` (CIDRs) opens specific internal ranges on purpose, e.g. an
intranet wiki; it is empty by default.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from django.conf import settings

from datasets.fetch_addresses import (
    FetchError,
    address_is_public,
    resolve_public,
)

MAX_REDIRECTS = 5
USER_AGENT = "chatbot-platform-ingest/1.0"
ALLOWED_CONTENT_TYPES = {
    "text/plain": None,
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/json": "json",
    "application/ld+json": "json",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/octet-stream": None,
    "binary/octet-stream": None,
}

_UNSENDABLE = re.compile(r"[^\x21-\x7e]+")  # outside printable ASCII


@dataclass(frozen=True)
class FetchResult:
    url: str
    size: int
    content_type: str
    charset: str | None
    kind: str | None
    filename: str


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def validate_url(url: str) -> Target:
    """Check the scheme and the resolved addresses of ``url`` (also used for each redirect)."""
    if not isinstance(url, str) or len(url) > 2000:
        raise FetchError("url must be an http(s) URL of at most 2000 characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise FetchError("The URL is malformed.") from None
    if parts.scheme not in {"http", "https"}:
        raise FetchError("Only http:// and https:// URLs can be fetched.")
    if parts.username or parts.password:
        raise FetchError("URLs with a user name or password are not fetched.")
    host = parts.hostname
    if not host:
        raise FetchError("The URL has no host.")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # http.client sends ASCII only (non-ASCII was a 500): percent-encoded as UTF-8, as browsers do
    path = _UNSENDABLE.sub(lambda m: quote(m.group(), safe=""), path)
    addresses = resolve_public(host, port)
    return Target(parts.scheme, host, port, path, tuple(addresses))


class _Deadline:
    """The whole fetch's time limit: when it passes, every socket it watches is shut down, so a
    read blocked on it returns at once (the socket timeout alone restarts with each byte)."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                self._shut(sock)

    def cancel(self) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(
        self, target: Target, timeout: float, watch: Callable[[socket.socket], None]
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses
        self._watch = watch

    def connect(self) -> None:
        self.sock = _connect_any(self._addresses, self.port, self.timeout)
        self._watch(self.sock)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, target: Target, timeout: float, watch: Callable[[socket.socket], None]
    ) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._addresses = target.addresses
        self._watch = watch

    def connect(self) -> None:
        raw = _connect_any(self._addresses, self.port, self.timeout)
        self._watch(raw)  # the TLS handshake reads from it too
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _connect_any(addresses: tuple[str, ...], port: int, timeout: float) -> socket.socket:
    last: OSError | None = None
    for addr in addresses:
        # Re-check right before connecting: nothing but a vetted literal reaches connect().
        if not address_is_public(addr):
            raise FetchError("Refused to connect to an internal address.")
        try:
            return socket.create_connection((addr, port), timeout=timeout)
        except OSError as exc:
            last = exc
    raise FetchError(
        f"Could not connect to the server ({last}).", status_code=502, error_type="upstream_error"
    )


def _filename(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return re.sub(r"[^\w.\-]", "_", name)[:200]


def fetch_to_file(
    url: str,
    path: Path,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
) -> FetchResult:
    """Download ``url`` into ``path`` under every rule above; raises FetchError."""
    max_bytes = max_bytes or settings.FETCH_MAX_BYTES
    timeout = timeout or settings.FETCH_TIMEOUT_SECONDS
    limit = _Deadline(timeout)
    try:
        return _fetch(url, path, max_bytes=max_bytes, timeout=timeout, limit=limit)
    except (OSError, http.client.HTTPException, FetchError):
        if limit.expired:
            raise FetchError(
                f"Fetching the URL took longer than {timeout:g} s; stopped.",
                status_code=502,
                error_type="upstream_error",
            ) from None
        raise
    finally:
        limit.cancel()


def _fetch(
    url: str, path: Path, *, max_bytes: int, timeout: float, limit: _Deadline
) -> FetchResult:
    deadline = time.monotonic() + timeout
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        target = validate_url(current)
        cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        conn = cls(
            target, timeout=max(1.0, min(timeout, deadline - time.monotonic())), watch=limit.watch
        )
        try:
            try:
                conn.request(
                    "GET",
                    target.path,
                    headers={
                        "User-Agent": USER_AGENT,
                        "Accept-Encoding": "identity",
                        "Accept": "*/*",
                    },
                )
                resp = conn.getresponse()
            except FetchError:
                raise
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError(
                    f"The server could not be reached ({exc.__class__.__name__}).",
                    status_code=502,
                    error_type="upstream_error",
                ) from None
            if resp.status in {301, 302, 303, 307, 308}:
                location = resp.getheader("Location")
                if not location:
                    raise FetchError(
                        "The server redirected without a Location.",
                        status_code=502,
                        error_type="upstream_error",
                    )
                with contextlib.suppress(UnicodeError):  # http.client read it as Latin-1
                    location = location.encode("latin-1").decode("utf-8")
                current = urljoin(current, location)
                continue
            if resp.status != 200:
                raise FetchError(
                    f"The server answered HTTP {resp.status} for this URL.",
                    status_code=502,
                    error_type="upstream_error",
                )
            raw_type = resp.getheader("Content-Type", "application/octet-stream")
            content_type = raw_type.split(";", 1)[0].strip().lower()
            match = re.search(r"charset=([\w\-]+)", raw_type, re.IGNORECASE)
            charset = match.group(1) if match else None
            if content_type not in ALLOWED_CONTENT_TYPES and not content_type.startswith("text/"):
                raise FetchError(
                    f"The URL serves {content_type}, which cannot be ingested.",
                    status_code=415,
                    error_type="unsupported_media_type",
                )
            length = resp.getheader("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(
                    f"The URL serves {int(length) // (1024 * 1024)} MB, more than the "
                    f"{max_bytes // (1024 * 1024)} MB limit.",
                    status_code=413,
                    error_type="payload_too_large",
                )
            size = 0
            with open(path, "wb") as out:
                while True:
                    try:
                        block = resp.read1(65536)  # one recv: the deadline is checked between
                    except (OSError, http.client.HTTPException):
                        raise FetchError(
                            "The download was interrupted.",
                            status_code=502,
                            error_type="upstream_error",
                        ) from None
                    if not block:
                        if limit.expired or resp.length:  # cut short (http.client won't say)
                            raise FetchError(
                                "The download was interrupted.",
                                status_code=502,
                                error_type="upstream_error",
                            )
                        break
                    size += len(block)
                    if size > max_bytes:
                        raise FetchError(
                            f"The URL serves more than the {max_bytes // (1024 * 1024)} MB limit.",
                            status_code=413,
                            error_type="payload_too_large",
                        )
                    out.write(block)
            if size == 0:
                raise FetchError(
                    "The URL returned an empty body.", status_code=502, error_type="upstream_error"
                )
            return FetchResult(
                url=current,
                size=size,
                content_type=content_type,
                charset=charset,
                kind=ALLOWED_CONTENT_TYPES.get(content_type),
                filename=_filename(current),
            )
        finally:
            conn.close()
    raise FetchError(f"The URL redirected more than {MAX_REDIRECTS} times; stopped.")
