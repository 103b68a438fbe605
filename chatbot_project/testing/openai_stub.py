"""A real local HTTP server speaking the OpenAI wire format, scriptable per test.

Routes: ``POST /v1/chat/completions`` (JSON or SSE with ``data: [DONE]``), ``POST /v1/embeddings``
(deterministic normalised vectors honouring ``dimensions`` and ``encoding_format``) and
``GET /v1/models``. A test sets ``stub.script`` (reply text, per-token delay, error status, cutting
the stream, a gate that holds the last token) and reads ``stub.requests`` afterwards: every request
is recorded with its body, and streamed ones with the moment the client closed the connection.

Runs ``http.server.ThreadingHTTPServer`` in a daemon thread on 127.0.0.1:0.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

EVENT_POLL = 0.01  # gate checks while holding the last token
SLEEP_SLICE = 0.25


@dataclass
class Script:
    reply: str = "Hello from the stub model."
    token_delay: float = 0.0  # seconds between streamed tokens
    status: int = 200  # e.g. 500 or 429: answer with an OpenAI error body instead
    cut_after: int | None = None  # drop the connection after this many tokens (no [DONE])
    hold_last: threading.Event | None = None  # the last token waits until this is set
    first_token_delay: float = 0.0
    finish_reason: str = "stop"
    model: str | None = None  # echo the request's model when None


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float
    finished_at: float | None = None
    client_closed_at: float | None = None  # set when the client went away mid-stream
    tokens_sent: int = 0
    completed: bool = False
    peer: tuple[str, int] | None = None  # the client's address: equal peers = a reused connection

    @property
    def messages(self) -> list[dict[str, Any]]:
        return (self.body or {}).get("messages", []) if isinstance(self.body, dict) else []


def tokenize(text: str) -> list[str]:
    """Split into word-ish pieces that keep their leading whitespace, like real token deltas."""
    return re.findall(r"\s*\S+", text) or [text]


def fake_embedding(text: str, dimensions: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vec = np.random.default_rng(seed).standard_normal(dimensions).astype(np.float32)
    vec /= np.linalg.norm(vec) or 1.0
    return vec.tolist()


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive like the real API: JSON bodies carry Content-Length, streams are chunked, so a
    # client can reuse its connection (and the tests see whether ours does).
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Small SSE writes on a kept-alive connection would otherwise wait for delayed ACKs
        # (Nagle: ~40 ms per token); real servers set this too.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # ------------------------------------------------------------------ plumbing
    def _record(self, body: Any) -> RecordedRequest:
        rec = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            received_at=time.monotonic(),
            peer=tuple(self.client_address[:2]),
        )
        with self.server.stub.lock:
            self.server.stub.requests.append(rec)
        return rec

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _client_gone(self) -> bool:
        try:
            if not _readable(self.connection, 0.0):
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _wait(self, seconds: float = 0.0, event: threading.Event | None = None) -> None:
        """Sleep (or wait for the event) while watching for the client going away.

        Blocks in poll() on the client socket (it turns readable when the client closes), so
        thousands of open streams cost a few wake-ups per second each, not a busy poll.
        """
        deadline = time.monotonic() + seconds
        while True:
            if event is not None:
                if event.is_set() or self.server.stub.stopping.is_set():
                    return
                step = EVENT_POLL
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                step = min(left, SLEEP_SLICE)
            try:
                readable = _readable(self.connection, step)
            except (OSError, ValueError):
                raise _ClientGone from None
            if readable:
                if self._client_gone():
                    raise _ClientGone
                time.sleep(step)  # the client sent bytes we do not read: do not spin on them

    def _write(self, data: bytes) -> None:
        """One chunk of a chunked (streamed) body; b"" ends the body."""
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGone from exc

    # ------------------------------------------------------------------ routes
    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/") == "/v1/models":
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": "stub-model", "object": "model", "created": 0, "owned_by": "stub"}
                    ],
                },
            )
        else:
            self._send_json(404, {"error": {"message": "no such route", "type": "not_found"}})

    def do_POST(self) -> None:
        body = self._read_json()
        rec = self._record(body)
        path = self.path.split("?")[0].rstrip("/")
        if path == "/v1/embeddings":
            self._embeddings(body)
        elif path == "/v1/chat/completions":
            self._chat(body, rec)
        else:
            self._send_json(404, {"error": {"message": "no such route", "type": "not_found"}})
        rec.finished_at = time.monotonic()

    def _embeddings(self, body: dict[str, Any]) -> None:
        inputs = body.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        dims = int(body.get("dimensions") or 1536)
        data = []
        for i, text in enumerate(inputs):
            vec = fake_embedding(str(text), dims)
            if body.get("encoding_format") == "base64":
                emb: Any = base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode()
            else:
                emb = vec
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(len(str(t).split()) for t in inputs)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "stub-embedding"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _chat(self, body: dict[str, Any], rec: RecordedRequest) -> None:
        script = self.server.stub.script
        if script.status != 200:
            headers = {"Retry-After": "1"} if script.status == 429 else {}
            self._send_json(
                script.status,
                {"error": {"message": f"stub failure {script.status}", "type": "server_error"}},
                headers,
            )
            return
        model = script.model or body.get("model", "stub-model")
        tokens = tokenize(script.reply)
        prompt_tokens = sum(
            len(str(m.get("content", "")).split()) for m in body.get("messages", [])
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(tokens),
            "total_tokens": prompt_tokens + len(tokens),
        }
        created = int(time.time())
        if not body.get("stream"):
            self._send_json(
                200,
                {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": script.reply},
                            "finish_reason": script.finish_reason,
                        }
                    ],
                    "usage": usage,
                },
            )
            rec.completed = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            payload = {
                "id": "chatcmpl-stub",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            return f"data: {json.dumps(payload)}\n\n".encode()

        try:
            self._write(chunk({"role": "assistant", "content": ""}))
            if script.first_token_delay:
                self._wait(script.first_token_delay)
            for i, token in enumerate(tokens):
                if script.cut_after is not None and i >= script.cut_after:
                    self.connection.shutdown(socket.SHUT_RDWR)  # mid-body: no final chunk
                    self.close_connection = True
                    return
                if i == len(tokens) - 1 and script.hold_last is not None:
                    self._wait(event=script.hold_last)
                elif i and script.token_delay:
                    self._wait(script.token_delay)
                self._write(chunk({"content": token}))
                rec.tokens_sent += 1
            self._write(chunk({}, script.finish_reason))
            if (body.get("stream_options") or {}).get("include_usage"):
                payload = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
                self._write(f"data: {json.dumps(payload)}\n\n".encode())
            self._write(b"data: [DONE]\n\n")
            self._write(b"")
            rec.completed = True
        except _ClientGone:
            rec.client_closed_at = time.monotonic()
            self.close_connection = True


def _readable(sock: socket.socket, timeout: float) -> bool:
    """Whether ``sock`` turns readable within ``timeout`` s. poll(), not select(): select()
    refuses descriptors >= 1024, which a stub holding 1,000+ streams hands out."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(max(0, int(timeout * 1000))))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 2048  # listen backlog: benchmarks open streams in bursts
    stub: OpenAIStub


@dataclass
class OpenAIStub:
    host: str = "127.0.0.1"
    port: int = 0
    script: Script = field(default_factory=Script)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> OpenAIStub:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.stub = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.script.hold_last is not None:
            self.script.hold_last.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        self.script = Script()
        with self.lock:
            self.requests.clear()

    def chat_requests(self) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith("/v1/chat/completions")]

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return bool(predicate())

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:  # pragma: no cover - manual use: python -m chatbot_project.testing.openai_stub
    import argparse

    parser = argparse.ArgumentParser(description="Local OpenAI-compatible stub server")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--reply", default="Hello from the stub model.")
    parser.add_argument("--token-delay", type=float, default=0.0)
    args = parser.parse_args()
    stub = OpenAIStub(port=args.port, script=Script(reply=args.reply, token_delay=args.token_delay))
    stub.start()
    print(f"OpenAI stub at {stub.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        stub.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
