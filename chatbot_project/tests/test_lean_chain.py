"""The ASGI app sends /v1/ through the lean middleware chain (chatbot_project/lean.py) with the
same security headers as the full chain, and everything else through the full chain."""

from __future__ import annotations

import httpx
import pytest
from asgiref.sync import async_to_sync

pytestmark = pytest.mark.django_db(transaction=True)


def _get(path: str) -> httpx.Response:
    from chatbot_project.asgi import application

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.get(path)

    return async_to_sync(go)()


def test_api_chain_keeps_security_headers_and_skips_sessions(settings):
    res = _get("/v1/health")
    assert res.status_code == 200
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.headers["X-Frame-Options"] == "DENY"
    assert res.headers["Referrer-Policy"]
    assert res.headers["X-Request-ID"]
    assert "set-cookie" not in res.headers
    names = [n.rsplit(".", 1)[-1] for n in settings.API_MIDDLEWARE]
    assert "SessionMiddleware" not in names
    assert "CsrfViewMiddleware" not in names
    assert "WhiteNoiseMiddleware" not in names
    assert "InlineSecurityMiddleware" in names


def test_other_paths_use_the_full_chain():
    res = _get("/no-such-page/")
    assert res.status_code == 404
    assert res.headers["X-Frame-Options"] == "DENY"


def _post(path: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    from chatbot_project.asgi import application

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.post(path, content=body, headers=headers or {})

    return async_to_sync(go)()


def test_lean_async_views_are_the_marked_ones():
    from chatbot_project.lean import _is_lean

    for path in ("/v1/chat", "/v1/retrieve", "/v1/openai/chat/completions", "/v1/openai/models"):
        assert _is_lean(path), path
    for path in ("/v1/bots", "/v1/health", "/v1/no-such-route", "/admin/"):
        assert not _is_lean(path), path


def test_lean_async_route_sends_request_signals_and_keeps_headers():
    """The inline handler (no per-request thread) still sends request_started/finished once
    each and answers errors in API.md's shape with the lean chain's headers."""
    from django.core import signals

    seen: list[str] = []

    def started(**kwargs):
        seen.append("started")

    def finished(**kwargs):
        seen.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        res = _post("/v1/retrieve", b'{"query": "x"}', {"Content-Type": "application/json"})
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert res.status_code == 401
    assert res.json()["error"]["type"] == "authentication_failed"
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    assert res.headers["X-Request-ID"]
    assert seen == ["started", "finished"]
