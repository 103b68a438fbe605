"""The concurrent-chat cap of a browser key (one with ``allowed_origins``) counts per visitor.

Every visitor of a site uses the site's key, and ``MAX_CONCURRENT_STREAMS_PER_KEY`` (20) counted
all their chats together: 20 visitors chatting at once locked the 21st out. A browser key has
its own, larger cap (``MAX_CONCURRENT_STREAMS_PER_BROWSER_KEY``) and each visitor (client
address, with or without an ``Origin``, as ``VISITOR_RATE_LIMIT`` counts) one of its own
(``MAX_CONCURRENT_STREAMS_PER_VISITOR``); server-side keys keep the per-key cap alone.

Chats are held open the way a client holds them: a streamed response whose body has not been
read yet holds its slot (Redis, real); closing it gives the slot back (and stores the turn as
cancelled, as when the client leaves before the body began)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import AsyncRequestFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::Warning"),
]

SHOP = "https://shop.example"
Q = "How do I limit anonymous clients per day?"
ROUTES = ["/v1/chat", "/v1/openai/chat/completions"]


@pytest.fixture
def limits(settings, kb, openai_stub):
    settings.MAX_CONCURRENT_STREAMS_PER_KEY = 20
    settings.MAX_CONCURRENT_STREAMS_PER_BROWSER_KEY = 200
    settings.MAX_CONCURRENT_STREAMS_PER_VISITOR = 3
    settings.RATE_LIMIT_DEFAULT = "1000/m"
    settings.VISITOR_RATE_LIMIT = "1000/m"
    return settings


@pytest.fixture
def held() -> Iterator[list[Any]]:
    """Responses opened by a test, closed at its end as Django's handler closes a response
    whose client left (without the request_finished connection cleanup, which would take the
    test's database connection)."""
    responses: list[Any] = []
    yield responses
    request_finished.disconnect(close_old_connections)
    try:
        for response in responses:
            response.close()
    finally:
        request_finished.connect(close_old_connections)


def _open(key: str, address: str, *, origin: str = SHOP, route: str = "/v1/chat") -> Any:
    """A streamed chat from ``address``, its body not read (the chat holds its slot)."""
    from conversations.openai_compat import completions_view
    from conversations.streaming import chat_view

    if route == "/v1/chat":
        view, body = chat_view, {"bot": "helper", "message": Q, "stream": True}
    else:
        view = completions_view
        body = {"model": "helper", "messages": [{"role": "user", "content": Q}], "stream": True}
    headers = {"Authorization": f"Bearer {key}"}
    if origin:
        headers["Origin"] = origin
    request = AsyncRequestFactory().post(
        route, body, content_type="application/json", headers=headers
    )
    request.META["REMOTE_ADDR"] = address
    return async_to_sync(view)(request)


def _hold(held: list[Any], key: str, address: str, **kw: Any) -> Any:
    response = _open(key, address, **kw)
    held.append(response)
    assert response.status_code == 200, response.content
    assert response.streaming
    return response


def _refused(key: str, address: str, **kw: Any) -> str:
    response = _open(key, address, **kw)
    assert response.status_code == 429, getattr(response, "content", response)
    assert response["Retry-After"] == "1"
    error = json.loads(response.content)["error"]
    assert error["type"] == "rate_limited"
    return error["message"]


@pytest.mark.parametrize("route", ROUTES)
def test_the_21st_visitor_of_a_site_is_not_locked_out(kb, make_key, limits, held, route):
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    for n in range(1, 21):  # 20 visitors chatting at once (the old per-key cap)
        _hold(held, browser, f"203.0.113.{n}", route=route)
    _hold(held, browser, "203.0.113.21", route=route)


@pytest.mark.parametrize("route", ROUTES)
def test_one_visitor_over_its_own_cap_is_refused(kb, make_key, limits, held, route):
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    mine = [_hold(held, browser, "198.51.100.7", route=route) for _ in range(3)]
    message = _refused(browser, "198.51.100.7", route=route)
    assert message == (
        "One visitor of this site may have 3 chats answering at once and this one already "
        "has; wait for one of them to finish (limit per visitor)."
    )
    _hold(held, browser, "198.51.100.8", route=route)  # another visitor of the site
    request_finished.disconnect(close_old_connections)
    try:
        mine[0].close()  # a chat of the visitor ends: its slot is the visitor's again
    finally:
        request_finished.connect(close_old_connections)
    _hold(held, browser, "198.51.100.7", route=route)


def test_a_websocket_visitor_is_counted_with_its_http_chats(kb, make_key, limits, held):
    from chatbot_project.asgi import application

    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    for _ in range(3):
        _hold(held, browser, "198.51.100.7")

    async def chat_from(address: str) -> dict:
        comm = WebsocketCommunicator(
            application, f"/ws/chat/?key={browser}", headers=[(b"origin", SHOP.encode())]
        )
        comm.scope["client"] = (address, 50000)
        connected, _ = await comm.connect()
        assert connected
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        while True:
            msg = await comm.receive_json_from(timeout=10)
            if msg["type"] in ("end", "error"):
                await comm.disconnect()
                return msg

    refused = async_to_sync(chat_from)("198.51.100.7")
    assert refused["error"]["type"] == "rate_limited"
    assert "(limit per visitor)" in refused["error"]["message"]
    assert async_to_sync(chat_from)("198.51.100.9")["type"] == "end"


def test_the_site_key_keeps_a_cap_for_all_its_visitors(kb, make_key, limits, held):
    limits.MAX_CONCURRENT_STREAMS_PER_BROWSER_KEY = 4
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    for address in ("192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3"):
        _hold(held, browser, address)
    assert _refused(browser, "192.0.2.4") == (
        "This site's key already has 4 chats answering at once, the most it may have for all "
        "of the site's visitors together; try again in a moment (limit per site key)."
    )
    # Without an Origin (a server, or curl with the copied key): the site cap holds it too.
    assert "(limit per site key)" in _refused(browser, "192.0.2.9", origin="")


def test_server_keys_keep_one_cap_per_key(kb, make_key, limits, held):
    limits.MAX_CONCURRENT_STREAMS_PER_KEY = 2
    limits.MAX_CONCURRENT_STREAMS_PER_VISITOR = 1
    server = make_key(kb.tenant, ("chat",))  # no allowed_origins
    _hold(held, server, "192.0.2.1")
    _hold(held, server, "192.0.2.1", origin=SHOP)  # one address, an Origin: not a visitor cap
    for address, origin in (("192.0.2.2", ""), ("192.0.2.2", SHOP)):
        assert _refused(server, address, origin=origin) == (
            "This credential already has 2 chats running; wait for one to finish."
        )
