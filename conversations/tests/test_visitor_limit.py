"""VISITOR_RATE_LIMIT: a browser key's chats are also counted per visitor (client address). The
key's own limit and concurrent-answer cap are shared by every visitor of the site, so one
visitor could spend the whole site's allowance (found by the widget QA sweep)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.testing.openai_stub import Script
from conversations.tests.helpers import SHOP, browser_chat

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::Warning"),
]

Q = "How do I limit anonymous clients per day?"


def _chat(key: str, address: str, origin: str = SHOP):
    return browser_chat(key, address, origin, message=Q)


def test_one_visitor_cannot_spend_a_sites_allowance(settings, kb, make_key, openai_stub):
    settings.VISITOR_RATE_LIMIT = "2/m"
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    assert _chat(browser, "203.0.113.5").status_code == 200
    assert _chat(browser, "203.0.113.5").status_code == 200
    refused = _chat(browser, "203.0.113.5")
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limited"
    assert "one visitor of this site" in refused.json()["error"]["message"]
    assert int(refused["Retry-After"]) >= 1
    assert _chat(browser, "203.0.113.6").status_code == 200  # another visitor of the site
    server = make_key(kb.tenant, ("chat",))  # no allowed_origins: its own limit alone
    for _ in range(3):
        assert _chat(server, "203.0.113.5").status_code == 200


def test_the_websocket_counts_visitors_too(settings, kb, make_key, openai_stub):
    settings.VISITOR_RATE_LIMIT = "1/m"
    openai_stub.script = Script(reply="ok")
    from chatbot_project.asgi import application

    key = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])

    async def run() -> list[dict]:
        comm = WebsocketCommunicator(
            application, f"/ws/chat/?key={key}", headers=[(b"origin", SHOP.encode())]
        )
        comm.scope["client"] = ("198.51.100.7", 50000)
        connected, _ = await comm.connect()
        assert connected
        seen = []
        for _ in range(2):
            await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
            while True:
                msg = await comm.receive_json_from(timeout=10)
                if msg["type"] in ("end", "error"):
                    seen.append(msg)
                    break
        await comm.disconnect()
        return seen

    first, second = async_to_sync(run)()
    assert first["type"] == "end"
    assert second["type"] == "error"
    assert second["error"]["type"] == "rate_limited"


def test_a_visitors_429_carries_the_visitors_limit_headers(settings, kb, make_key, openai_stub):
    """The refusal's X-RateLimit-* describe the limit that refused it (the visitor's), as the
    fast lane and the DRF routes do: the chat routes overwrote them with the key's, so a 429
    said "X-RateLimit-Remaining: 119" beside "Retry-After: 60"."""
    settings.VISITOR_RATE_LIMIT = "1/m"
    openai_stub.script = Script(reply="ok")
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP], rate_limit="100/m")
    allowed = _chat(browser, "203.0.113.5")
    assert allowed.status_code == 200
    # The visitor's own allowance, not the site key's (test_a_visitors_rate_headers_...).
    assert (allowed["X-RateLimit-Limit"], allowed["X-RateLimit-Remaining"]) == ("1", "0")
    refused = _chat(browser, "203.0.113.5")
    assert refused.status_code == 429
    assert (refused["X-RateLimit-Limit"], refused["X-RateLimit-Remaining"]) == ("1", "0")
    assert int(refused["Retry-After"]) >= 1


def test_a_visitor_over_its_limit_does_not_spend_the_sites_allowance(
    settings, kb, make_key, openai_stub
):
    """The per-visitor limit exists so that one visitor cannot spend the site key's limit; its
    refused chats were counted against the key first, so one visitor sending on after its
    own 429s locked every other visitor out (HTTP and WebSocket alike)."""
    settings.VISITOR_RATE_LIMIT = "1/m"
    openai_stub.script = Script(reply="ok")
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP], rate_limit="3/m")
    statuses = [_chat(browser, "203.0.113.5").status_code for _ in range(5)]
    assert statuses == [200, 429, 429, 429, 429]
    assert _chat(browser, "203.0.113.6").status_code == 200  # another visitor of the site
    assert _chat(browser, "203.0.113.7").status_code == 200


def test_a_websocket_visitor_over_its_limit_does_not_spend_the_sites_allowance(
    settings, kb, make_key, openai_stub
):
    settings.VISITOR_RATE_LIMIT = "1/m"
    openai_stub.script = Script(reply="ok")
    from chatbot_project.asgi import application

    key = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP], rate_limit="2/m")

    async def run() -> list[str]:
        comm = WebsocketCommunicator(
            application, f"/ws/chat/?key={key}", headers=[(b"origin", SHOP.encode())]
        )
        comm.scope["client"] = ("198.51.100.7", 50000)
        assert (await comm.connect())[0]
        seen = []
        for _ in range(4):
            await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
            while True:
                msg = await comm.receive_json_from(timeout=10)
                if msg["type"] in ("end", "error"):
                    seen.append(msg["type"])
                    break
        await comm.disconnect()
        return seen

    assert async_to_sync(run)() == ["end", "error", "error", "error"]
    assert _chat(key, "203.0.113.6").status_code == 200  # another visitor of the site


def test_leaving_the_origin_out_does_not_escape_the_visitor_limit(
    settings, kb, make_key, openai_stub
):
    """A browser key is public: curl with the key copied from the page and no Origin header
    was counted for the site alone, so one person could spend the site's whole allowance."""
    settings.VISITOR_RATE_LIMIT = "2/m"
    openai_stub.script = Script(reply="ok")
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    assert _chat(browser, "203.0.113.7", origin="").status_code == 200
    assert _chat(browser, "203.0.113.7").status_code == 200  # with or without: one visitor
    refused = _chat(browser, "203.0.113.7", origin="")
    assert refused.status_code == 429
    assert "one visitor of this site" in refused.json()["error"]["message"]
    assert _chat(browser, "203.0.113.8", origin="").status_code == 200


def test_a_visitors_rate_headers_describe_its_own_allowance(settings, kb, make_key, openai_stub):
    """Repro (leakage review): X-RateLimit-Remaining on a browser key's chat was the site key's
    count, shared by every visitor: any visitor could watch how busy the site was. A visitor
    now sees its own allowance (VISITOR_RATE_LIMIT); a server key still sees the key's."""
    settings.VISITOR_RATE_LIMIT = "5/m"
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP], rate_limit="1000/m")
    for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):  # the site's other visitors
        assert _chat(browser, address).status_code == 200
    res = _chat(browser, "203.0.113.9")
    assert res.status_code == 200
    assert (res["X-RateLimit-Limit"], res["X-RateLimit-Remaining"]) == ("5", "4")
    server = make_key(kb.tenant, ("chat",), rate_limit="1000/m")
    res = _chat(server, "203.0.113.9")
    assert (res["X-RateLimit-Limit"], res["X-RateLimit-Remaining"]) == ("1000", "999")
