"""A reverse proxy in front of the app, as a site's gateway (nginx, a load balancer) is, for the
widget's browser tests of a brief outage: it forwards every request (SSE answers as they stream)
until told to fail, and then answers as a gateway does while the app is briefly out of reach.

Faults (``Gateway.fail(mode, times)``; ``times=None``: until ``Gateway.heal()``):
- ``"down"``: every request (preflights and /v1/health too) gets the gateway's own 502 page,
  HTML without any CORS header (the browser hides it from a page of another origin);
- ``"unavailable"``: a chat question (POST /v1/chat with a message) gets API.md's 503
  ``unavailable`` body with ``Retry-After: 1``, readable by the page (CORS headers), as the
  server itself answers with a dependency down;
- ``"drop"``: a chat question's connection is closed without an answer (a restart, a blip).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
UNAVAILABLE = {
    "error": {
        "type": "unavailable",
        "message": "Redis (rate limits, queue, cache) is unavailable right now; retry in a few "
        "seconds.",
    }
}


class Gateway:
    def __init__(self, app_url: str) -> None:
        self.target = urlparse(app_url)
        self.mode: str | None = None
        self.times: int | None = None
        self.questions: list[str] = []  # per chat question: "passed" or the fault it got
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, mode: str, times: int | None = None) -> None:
        assert mode in ("down", "unavailable", "drop")
        with self.lock:
            self.mode, self.times = mode, times

    def heal(self) -> None:
        with self.lock:
            self.mode = self.times = None

    def _fault(self, question: bool) -> str | None:
        """The fault this request gets (a chat question counts against ``times``)."""
        with self.lock:
            mode = self.mode
            if mode is None or (mode != "down" and not question):
                if question:
                    self.questions.append("passed")
                return None
            if question:
                self.questions.append(mode)
                if self.times is not None:
                    self.times -= 1
                    if self.times <= 0:
                        self.mode = self.times = None
            return mode

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                question = (
                    self.command == "POST"
                    and self.path.split("?")[0] == "/v1/chat"
                    and b'"message"' in (body or b"")
                )
                fault = gateway._fault(question)
                if fault == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                if fault == "down":
                    return self._answer(502, "text/html", GATEWAY_PAGE, {})
                if fault == "unavailable":
                    origin = self.headers.get("Origin", "*")
                    headers = {
                        "Retry-After": "1",
                        "Access-Control-Allow-Origin": origin,
                        "Access-Control-Expose-Headers": "retry-after, x-request-id",
                    }
                    data = json.dumps(UNAVAILABLE).encode()
                    return self._answer(503, "application/json", data, headers)
                self._forward(body)

            def _answer(self, status: int, kind: str, data: bytes, headers: dict) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _forward(self, body: bytes | None) -> None:
                target = gateway.target
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in HOP_BY_HOP:
                            self.send_header(name, value)
                    self.send_header("Connection", "close")  # the body ends with the connection
                    self.end_headers()
                    while chunk := response.read1(65536):  # (an SSE answer, as it streams)
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except OSError:
                    pass
                finally:
                    upstream.close()

            do_GET = do_POST = do_OPTIONS = do_DELETE = do_HEAD = _relay

            def log_message(self, *args) -> None:
                pass

        return Handler

    def __enter__(self) -> Gateway:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
