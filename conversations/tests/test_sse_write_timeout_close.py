"""When the write timeout gives up on a streaming client that stopped reading
(SSE_WRITE_TIMEOUT_SECONDS, chatbot_project/write_timeout.py), the connection is closed at once
(reset): before, the application returned with its response unfinished, Uvicorn logged "ASGI
callable returned without completing response" and closed the transport gracefully, which
waits to flush the answer's buffered bytes to a client that reads nothing, so the socket stayed
open in the server until the client read or closed. A real Uvicorn process, a raw client
socket that stops reading after the first event."""

from __future__ import annotations

import time

import psutil
import pytest

from chatbot_project.testing.openai_stub import Script
from chatbot_project.testing.processes import start_server, stop
from conversations.models import Message
from conversations.tests.conftest import build_kb
from conversations.tests.test_sse_write_timeout import LONG_REPLY, _stalled_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _server_holds(pid: int, client_port: int) -> bool:
    """Whether the server process still has the connection from ``client_port`` open."""
    return any(
        conn.raddr and conn.raddr.port == client_port
        for conn in psutil.Process(pid).net_connections(kind="tcp")
    )


@pytest.mark.parametrize("lane", ["true", "false"], ids=["fast lane", "django"])
def test_given_up_client_is_disconnected_without_an_unfinished_response(
    lane, openai_stub, tenant, make_key, tmp_path, monkeypatch
):
    build_kb(tenant)
    key = make_key(tenant)
    log = tmp_path / "server.log"
    monkeypatch.setenv("TEST_SERVER_LOG", str(log))
    proc, base = start_server(
        OPENAI_BASE_URL=openai_stub.base_url, OPENAI_API_KEY="sk-stub", CHAT_PROVIDER="openai",
        CHAT_MODEL="stub-model", EMBEDDING_PROVIDER="local", SSE_PING_SECONDS="0.2",
        CHAT_DB_THREAD_SENSITIVE="false", RATE_LIMIT_DEFAULT="1000/m", FAST_LANE=lane,
        SSE_WRITE_TIMEOUT_SECONDS="1",
    )  # fmt: skip
    port = int(base.rsplit(":", 1)[1])
    try:
        openai_stub.script = Script(reply=LONG_REPLY)
        sock, seen = _stalled_client(port, "/v1/chat", key)
        try:
            assert b" 200 " in seen.split(b"\r\n", 1)[0], seen
            client_port = sock.getsockname()[1]
            assert _server_holds(proc.pid, client_port)
            stored = Message.objects.filter(role="assistant")
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not (
                stored.filter(finish_reason="cancelled").exists()
                and not _server_holds(proc.pid, client_port)
            ):
                time.sleep(0.1)
            assert stored.get().finish_reason == "cancelled"  # given up (as before)
            # ... and the server let go of the connection though the client still reads nothing.
            assert not _server_holds(proc.pid, client_port)
        finally:
            sock.close()
    finally:
        stop(proc)
    text = log.read_text(errors="replace")
    assert "treated as gone" in text  # the write timeout's own warning
    assert "without completing response" not in text
    assert "Exception in ASGI application" not in text
