"""Chat sockets open at once are capped per visitor (client address) and per key, counted in
Redis across server processes (``conversations.socket_slots``). Before, opening a socket was
free: one browser-key visitor held 3,000 idle sockets (~67 KB each) on one server process. Over
real servers (two uvicorn, or daphne, processes sharing Redis): the socket one past a cap gets an
``error`` event (``rate_limited``, API.md's error body) and close code 4429; a closed socket
frees its place; another visitor (and another key) is unaffected."""

from __future__ import annotations

import json
import socket
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chatbot_project.testing.processes import start_server, stop
from conversations.tests.helpers import SHOP

pytestmark = pytest.mark.django_db(transaction=True)

CAPS = {
    "WS_MAX_SOCKETS_PER_VISITOR": "2",
    "WS_MAX_SOCKETS_PER_BROWSER_KEY": "3",
    "WS_MAX_SOCKETS_PER_KEY": "2",
}


@pytest.fixture(params=["uvicorn", "daphne"])
def servers(request):
    started = [
        start_server(
            server=request.param, CHAT_PROVIDER="extractive", EMBEDDING_PROVIDER="local", **CAPS
        )
        for _ in range(2)
    ]
    try:
        yield ["ws" + base[4:] for _, base in started]
    finally:
        for proc, _ in started:
            stop(proc)


def _open(server: str, key: str, address: str = "127.0.0.1", origin: str | None = SHOP):
    """A socket from client ``address`` (a loopback address of this host)."""
    host, port = server.split("//")[1].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), 10, source_address=(address, 0))
    headers = {"Origin": origin} if origin else {}
    return connect(
        f"{server}/ws/chat/?key={key}", sock=sock, open_timeout=20, additional_headers=headers
    )


def _alive(ws) -> bool:
    """The socket answers a ping (it was accepted and kept open)."""
    ws.send(json.dumps({"type": "ping"}))
    return json.loads(ws.recv(timeout=20)) == {"type": "pong"}


def _refused(ws) -> tuple[dict, int | None]:
    """The error event of a socket refused, and its close code."""
    with ws:
        event = json.loads(ws.recv(timeout=20))
        try:
            ws.recv(timeout=20)
        except ConnectionClosed as closed:
            return event, closed.rcvd.code if closed.rcvd else None
    raise AssertionError(f"the socket stayed open after {event}")


def _assert_refused(ws, words: str) -> None:
    event, code = _refused(ws)
    assert event["type"] == "error", event
    assert event["error"]["type"] == "rate_limited", event
    assert set(event["error"]) == {"type", "message"}, event
    assert words in event["error"]["message"], event
    assert code == 4429


def _reopen(server: str, key: str, address: str, tries: int = 50):
    """A socket opened once the server has seen the previous one close."""
    for _ in range(tries):
        ws = _open(server, key, address)
        try:
            if _alive(ws):
                return ws
        except ConnectionClosed:
            pass
        ws.close()
        time.sleep(0.1)
    raise AssertionError("the closed socket's place was not given back")


def test_browser_key_sockets_are_capped_per_visitor_and_per_site(servers, kb, make_key):
    a, b = servers
    site = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    first, second = _open(a, site), _open(b, site)  # one visitor, on two processes
    assert _alive(first)
    assert _alive(second)
    _assert_refused(_open(a, site), "One visitor of this site may have 2 chat sockets")
    other = _open(b, site, "127.0.0.2")  # another visitor is unaffected
    assert _alive(other)
    _assert_refused(_open(a, site, "127.0.0.3"), "for all of the site's visitors together")
    first.close()
    again = _reopen(b, site, "127.0.0.1")  # its place is free again, on the other process too
    assert _alive(second)
    assert _alive(other)
    _assert_refused(_open(a, site, "127.0.0.1"), "One visitor of this site")
    for ws in (again, second, other):
        ws.close()


def test_server_side_key_sockets_are_capped_per_key(servers, kb, make_key):
    a, b = servers
    key, another = make_key(kb.tenant, ("chat",)), make_key(kb.tenant, ("chat",))
    held = [_open(a, key, origin=None), _open(b, key, "127.0.0.2", origin=None)]
    assert all(_alive(ws) for ws in held)
    _assert_refused(_open(a, key, "127.0.0.3", origin=None), "already has 2 chat sockets open")
    spare = _open(a, another, origin=None)  # another key is unaffected
    assert _alive(spare)
    held.pop().close()
    held.append(_reopen(a, key, "127.0.0.1"))
    assert all(_alive(ws) for ws in held)
    for ws in (*held, spare):
        ws.close()
