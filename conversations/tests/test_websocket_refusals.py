"""A socket refused at /ws/chat/ (no key, a bad one, no `chat` permission, a refused origin,
X-Tenant naming another tenant, the database down) or opened at a path that is not a socket:
over a real server (uvicorn and daphne), the client gets API.md's error body as an ``error``
event and a close code saying why. Before, a refusal closed the socket before its handshake,
which both servers answer with a bare HTTP 403 (no body, no close code: a bad key read like a
missing permission); the database down, or an unknown path (``/ws/chat`` without its slash too),
was an HTTP 500 with a logged traceback. And a frame larger than POST /v1/chat takes as a body
is refused as that body is (it was answered, its `metadata` stored twice)."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apikeys import keys
from chatbot_project.testing import processes
from chatbot_project.testing.processes import start_server, stop
from conversations.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["uvicorn", "daphne"])
def server(request):
    proc, base = start_server(
        server=request.param, CHAT_PROVIDER="extractive", EMBEDDING_PROVIDER="local"
    )
    try:
        yield "ws" + base[4:], request.param
    finally:
        stop(proc)


def _refusal(url: str, **kw) -> tuple[dict, int | None, str]:
    """The first event of a socket the server refuses, and the close code and reason after it."""
    with connect(url, open_timeout=20, **kw) as socket:
        event = json.loads(socket.recv(timeout=20))
        try:
            socket.recv(timeout=20)
        except ConnectionClosed as closed:
            return event, closed.rcvd.code if closed.rcvd else None, closed.rcvd.reason
    raise AssertionError("the socket stayed open")


def test_refused_sockets_are_told_why(server, kb, make_key):
    server, software = server
    key = make_key(kb.tenant)
    reader = make_key(kb.tenant, permissions=("read",))
    site = make_key(kb.tenant, permissions=("chat",), allowed_origins=["https://shop.example"])
    chat = f"{server}/ws/chat/"
    cases = {
        "no key": (chat, {}),
        "bad key": (f"{chat}?key=cb_nope", {}),
        "bad subprotocol key": (chat, {"subprotocols": ["bearer.cb_nope"]}),
        "reader": (f"{chat}?key={reader}", {}),
        "other origin": (
            f"{chat}?key={site}",
            {"additional_headers": {"Origin": "https://evil.example"}},
        ),
        "other tenant": (f"{chat}?key={key}", {"additional_headers": {"X-Tenant": "globex"}}),
        "no such socket": (f"{server}/ws/nope/", {"subprotocols": [f"bearer.{key}"]}),
    }
    seen = {name: _refusal(url, **kw) for name, (url, kw) in cases.items()}
    expected = {
        "no key": ("authentication_failed", 4401),
        "bad key": ("authentication_failed", 4401),
        "bad subprotocol key": ("authentication_failed", 4401),
        "reader": ("permission_denied", 4403),
        "other origin": ("permission_denied", 4403),
        "other tenant": ("authentication_failed", 4401),
        "no such socket": ("not_found", 4404),
    }
    for name, (kind, code) in expected.items():
        event, closed_with, reason = seen[name]
        assert event["type"] == "error", (name, event)
        assert set(event["error"]) == {"type", "message"}, (name, event)
        assert event["error"]["type"] == kind, (name, event)
        assert closed_with == code, name
        assert reason == ("" if software == "daphne" else kind), name  # (daphne sends no reason)
    assert "?key=" in seen["no key"][0]["error"]["message"]
    assert "`chat` permission" in seen["reader"][0]["error"]["message"]
    assert "https://evil.example" in seen["other origin"][0]["error"]["message"]
    assert "globex" in seen["other tenant"][0]["error"]["message"]
    assert "/ws/chat/" in seen["no such socket"][0]["error"]["message"]


def test_the_chat_socket_answers_without_its_trailing_slash(server, kb, make_key):
    server, _ = server
    key = make_key(kb.tenant)
    with connect(f"{server}/ws/chat?key={key}", open_timeout=20) as socket:
        socket.send(json.dumps({"type": "chat", "bot": "helper", "message": "What is throttling?"}))
        events = [json.loads(socket.recv(timeout=30))]
        while events[-1]["type"] not in ("end", "error"):
            events.append(json.loads(socket.recv(timeout=30)))
    assert events[0]["type"] == "start"
    assert events[-1]["type"] == "end", events[-1]


def test_a_frame_larger_than_an_http_chat_body_is_refused_and_the_socket_goes_on(
    server, kb, make_key, settings
):
    server, _ = server  # daphne too: its message limit is uvicorn's 16 MiB (serve.py)
    key = make_key(kb.tenant)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # (the server's: the same default)
    big = {"type": "chat", "bot": "helper", "message": "Hi?", "metadata": {"x": "é" * (limit // 2)}}
    with connect(f"{server}/ws/chat/?key={key}", open_timeout=20, max_size=None) as socket:
        socket.send(json.dumps(big, ensure_ascii=False))  # ~1 character in 2 bytes: over it
        refused = json.loads(socket.recv(timeout=30))
        socket.send(json.dumps({"type": "chat", "bot": "helper", "message": "What is paging?"}))
        events = [json.loads(socket.recv(timeout=30))]
        while events[-1]["type"] not in ("end", "error"):
            events.append(json.loads(socket.recv(timeout=30)))
    assert refused["error"]["type"] == "payload_too_large", refused
    assert refused["error"]["details"] == {"max_bytes": limit}
    assert f"{limit:,}-byte" in refused["error"]["message"]
    assert events[-1]["type"] == "end", events[-1]
    assert Conversation.objects.count() == 1  # the refused chat stored nothing


@pytest.mark.parametrize("software", ["uvicorn", "daphne"])
def test_the_database_down_is_an_unavailable_event(software):
    url = processes.test_database_url()
    missing = url.replace("/test_", "/missing_test_", 1)
    assert missing != url
    proc, base = start_server(server=software, DATABASE_URL=missing, TESTING="0", DEBUG="true")
    try:
        event, code, _ = _refusal(f"ws{base[4:]}/ws/chat/?key={keys.generate()}")
    finally:
        stop(proc)
    assert event["error"]["type"] == "unavailable", event
    assert code == 4503  # 4000 + the HTTP status, as 4401 and 4403
