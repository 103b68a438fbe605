"""The ceiling's 413 says HSTS exactly when Django's own answers to the same request would:
with X-Forwarded-Proto given twice, Django reads the first (``HttpRequest.is_secure``: the
values joined with "," and the first taken), and the 413 read the last."""

from __future__ import annotations

import asyncio
import io

import pytest
from django.core.handlers.asgi import ASGIRequest

from chatbot_project.bodylimit import limit_body


async def _app(scope, receive, send):
    raise AssertionError("the ceiling answers before the application")


def _hsts(headers: list[tuple[bytes, bytes]]) -> bool:
    scope = {"type": "http", "method": "POST", "path": "/v1/bots", "headers": headers}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(limit_body(_app)(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    return b"strict-transport-security" in dict(start["headers"])


@pytest.mark.parametrize(
    "protos", [["https"], ["http"], ["http", "https"], ["https", "http"]], ids=repr
)
def test_the_413_says_hsts_when_django_takes_the_request_for_secure(settings, protos):
    settings.MAX_REQUEST_BODY_BYTES = 1024
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    from chatbot_project.fastlane import static_headers

    static_headers.cache_clear()
    headers = [(b"x-forwarded-proto", p.encode()) for p in protos]
    headers.append((b"content-length", b"5000000000"))
    scope = {"type": "http", "method": "POST", "path": "/v1/bots", "headers": headers}
    django_secure = ASGIRequest(scope, io.BytesIO()).is_secure()
    assert django_secure == (protos[0] == "https")
    assert _hsts(headers) == django_secure
    static_headers.cache_clear()
