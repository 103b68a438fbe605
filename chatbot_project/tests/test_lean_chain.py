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

