"""A WebSocket frame too large is refused alike under uvicorn and daphne (chatbot_project/serve.py,
WS_MAX_MESSAGE_BYTES): over POST /v1/chat's body limit but within the server's 16 MiB, the chat
consumer answers payload_too_large and the socket goes on; over 16 MiB, the server closes it with
1009 (message too big). Before, daphne (its own limit 1 MiB, and autobahn failing a connection by
dropping it) cut any socket that sent over 1 MiB without a close frame: the client saw 1006 and
never learned why."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chatbot_project.testing.processes import start_server, stop

pytestmark = pytest.mark.django_db(transaction=True)

WS_MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # serve.py's, uvicorn's default


@pytest.fixture(params=["uvicorn", "daphne"])
def server(request):
    proc, base = start_server(
        server=request.param, CHAT_PROVIDER="extractive", EMBEDDING_PROVIDER="local"
    )
    try:
        yield "ws" + base[4:]
    finally:
        stop(proc)


def _answer(socket) -> list[dict]:
    socket.send(json.dumps({"type": "chat", "bot": "helper", "message": "What is paging?"}))
    events = [json.loads(socket.recv(timeout=30))]
    while events[-1]["type"] not in ("end", "error"):
        events.append(json.loads(socket.recv(timeout=30)))
    return events


def test_a_frame_over_the_body_limit_is_refused_and_the_socket_goes_on(server, kb, make_key):
    key = make_key(kb.tenant)
    big = {"type": "chat", "bot": "helper", "message": "Hi?", "metadata": {"x": "x" * 3_000_000}}
    with connect(f"{server}/ws/chat/?key={key}", open_timeout=20, max_size=None) as socket:
        socket.send(json.dumps(big))  # 3 MB: over daphne's own 1 MiB and the 2 MiB body limit
        refused = json.loads(socket.recv(timeout=30))
        events = _answer(socket)
    assert refused["error"]["type"] == "payload_too_large", refused
    assert events[-1]["type"] == "end", events[-1]


def test_a_frame_over_the_servers_limit_closes_with_1009(server, kb, make_key):
    key = make_key(kb.tenant)
    with connect(f"{server}/ws/chat/?key={key}", open_timeout=20, max_size=None) as socket:
        socket.send("x" * (WS_MAX_MESSAGE_BYTES + 1))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=30)
    assert closed.value.rcvd is not None, "dropped without a close frame"
    assert closed.value.rcvd.code == 1009
