"""A streaming chat client that stops reading without closing its connection is given up after
SSE_WRITE_TIMEOUT_SECONDS (chatbot_project/write_timeout.py): its chat is stored as cancelled,
the upstream request closed, and its slot and conversation lock given back. Before, the
server's send waited on flow control for ever and held all three (a denial of service with
the per-key / per-visitor caps). A real uvicorn process, a raw socket with a tiny receive
buffer that reads the ``start`` event and nothing more."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from chatbot_project.testing.openai_stub import Script
from chatbot_project.testing.processes import start_server, stop
from conversations.models import Message
from conversations.tests.conftest import build_kb
from conversations.tests.live_fixtures import QUESTION

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# ~4 MB of answer in 2,000 tokens: more than the kernel's and the transport's buffers hold.
LONG_REPLY = "".join(f" w{i:04d}" + "x" * 2000 for i in range(2000))
CASES = [
    ("fast lane", "/v1/chat"),
    ("django", "/v1/chat"),
    ("django", "/v1/openai/chat/completions"),
]


def _body(path: str, conversation_id: str | None = None) -> dict:
    if path == "/v1/chat":
        body = {"bot": "helper", "message": QUESTION, "stream": True}
        if conversation_id:
            body["conversation_id"] = conversation_id
        return body
    return {"model": "helper", "messages": [{"role": "user", "content": QUESTION}], "stream": True}


def _stalled_client(port: int, path: str, key: str) -> tuple[socket.socket, bytes]:
    """A streaming request on a socket whose receive buffer is tiny; reads the head and the
    first event (to learn the ids), then never reads again. Returns (socket, what it read)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # before connect: the window
    sock.connect(("127.0.0.1", port))
    body = json.dumps(_body(path)).encode()
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nAccept: text/event-stream\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    seen = b""
    sock.settimeout(10)
    while b"\n\n" not in seen.partition(b"\r\n\r\n")[2]:
        chunk = sock.recv(512)
        assert chunk, seen
        seen += chunk
    return sock, seen


@pytest.mark.parametrize(("lane", "path"), CASES, ids=[f"{a} {b}" for a, b in CASES])
def test_client_that_stops_reading_is_given_up_and_its_slot_freed(
    lane, path, openai_stub, tenant, make_key
):
    build_kb(tenant)
    key = make_key(tenant)
    proc, base = start_server(
        OPENAI_BASE_URL=openai_stub.base_url, OPENAI_API_KEY="sk-stub", CHAT_PROVIDER="openai",
        CHAT_MODEL="stub-model", EMBEDDING_PROVIDER="local", SSE_PING_SECONDS="0.2",
        CHAT_DB_THREAD_SENSITIVE="false", RATE_LIMIT_DEFAULT="1000/m",
        FAST_LANE="true" if lane == "fast lane" else "false", API_KEY_CACHE_SECONDS="300",
        MAX_CONCURRENT_STREAMS_PER_KEY="1", SSE_WRITE_TIMEOUT_SECONDS="2",
    )  # fmt: skip
    port = int(base.rsplit(":", 1)[1])
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(timeout=30) as client:
            if lane == "fast lane":  # the key verified once: the chats below take the lane
                res = client.post(f"{base}/v1/retrieve", json={"bot": "helper", "query": "warm-up"},
                                  headers=headers)  # fmt: skip
                assert res.status_code == 200, res.text
            openai_stub.script = Script(reply=LONG_REPLY)
            sock, seen = _stalled_client(port, path, key)
            stalled_at = time.monotonic()
            try:
                assert b" 200 " in seen.split(b"\r\n", 1)[0], seen
                requests = openai_stub.chat_requests
                assert openai_stub.wait_for(lambda: requests() and requests()[0].tokens_sent, 10)
                openai_stub.script = Script(reply="Short answer.")
                # Within the timeout (and some slack) the slot is free again: the key's cap is 1.
                status = None
                while time.monotonic() - stalled_at < 12:
                    res = client.post(f"{base}{path}", json={**_body(path), "stream": False},
                                      headers=headers)  # fmt: skip
                    status = res.status_code
                    if status == 200:
                        break
                    assert status == 429, res.text
                    time.sleep(0.25)
                assert status == 200, "the stalled stream still holds the key's only slot"
                assert time.monotonic() - stalled_at < 12
                stored = Message.objects.filter(role="assistant").exclude(content="Short answer.")
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not stored.exists():
                    time.sleep(0.05)
                msg = stored.get()
                assert msg.finish_reason == "cancelled"
                assert 0 < len(msg.content) < len(LONG_REPLY)
                upstream = openai_stub.chat_requests()[0]  # closed, not left hanging
                assert upstream.client_closed_at is not None or upstream.completed
                if path == "/v1/chat":  # the conversation's lock was given back too
                    start = seen.partition(b"\r\n\r\n")[2].split(b"data: ", 1)[1].split(b"\n")[0]
                    conversation = json.loads(start)["conversation_id"]
                    again = {**_body(path, conversation), "stream": False}
                    res = client.post(f"{base}/v1/chat", headers=headers, json=again)
                    assert res.status_code == 200, res.text
            finally:
                sock.close()
    finally:
        stop(proc)
