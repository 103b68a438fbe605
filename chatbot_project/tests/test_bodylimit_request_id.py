"""The request-body ceiling's own 413 (chatbot_project/bodylimit.py) carries X-Request-ID like
every other answer (API.md: "Every response to an authenticated request carries X-Request-ID");
it is sent before Django's request-id middleware runs, so it had none."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from chatbot_project.bodylimit import limit_body

CEILING = 1024


async def _app(scope, receive, send):
    """Stands for the application: reads the whole body, then answers 200."""
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _call(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> list[dict]:
    scope = {"type": "http", "method": "POST", "path": "/v1/bots", "headers": headers}
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive():
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(limit_body(_app)(scope, receive, send))
    return sent


def _start(sent: list[dict]) -> tuple[int, dict[bytes, bytes]]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"])


AUTH = (b"authorization", b"Bearer cb_x")


@pytest.fixture(autouse=True)
def _ceiling(settings):
    settings.MAX_REQUEST_BODY_BYTES = CEILING


@pytest.mark.parametrize("chunked", [False, True], ids=["declared length", "chunked"])
def test_the_ceilings_413_carries_a_request_id(chunked):
    if chunked:
        sent = _call([AUTH], [b"x" * 600, b"x" * 600])
    else:
        sent = _call([AUTH, (b"content-length", b"5000000000")], [b""])
    status, headers = _start(sent)
    assert status == 413
    assert re.fullmatch(rb"[0-9a-f]{32}", headers[b"x-request-id"]), headers
    body = json.loads(
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    )
    assert body["error"]["type"] == "payload_too_large"


def test_the_ceilings_413_echoes_a_well_formed_client_request_id():
    sent = _call([AUTH, (b"content-length", b"5000000000"), (b"x-request-id", b"trace-42")], [b""])
    assert _start(sent)[1][b"x-request-id"] == b"trace-42"
    bad = _call([AUTH, (b"content-length", b"5000000000"), (b"x-request-id", b"a b\x01")], [b""])
    assert re.fullmatch(rb"[0-9a-f]{32}", _start(bad)[1][b"x-request-id"])


def test_a_body_under_the_ceiling_reaches_the_application():
    status, _ = _start(_call([AUTH, (b"content-length", b"10")], [b"x" * 10]))
    assert status == 200


def test_the_ceilings_413_carries_the_security_headers(settings):
    # It is sent before the middleware that adds them runs (HSTS, nosniff, Permissions-Policy).
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proto = (b"x-forwarded-proto", b"https")
    from chatbot_project.fastlane import static_headers

    static_headers.cache_clear()
    _, headers = _start(_call([AUTH, proto, (b"content-length", b"5000000000")], [b""]))
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert b"permissions-policy" in headers
    assert headers[b"strict-transport-security"].startswith(b"max-age=3600")
    _, plain = _start(_call([AUTH, (b"content-length", b"5000000000")], [b""]))
    assert b"strict-transport-security" not in plain  # not over plain HTTP
    assert plain[b"content-type"] == b"application/json"
    static_headers.cache_clear()
