"""Small helpers shared by the chat tests."""

from __future__ import annotations

import json
from typing import Any


def parse_sse(raw: str) -> list[tuple[str, Any]]:
    events = []
    for block in raw.strip().split("\n\n"):
        lines = block.split("\n")
        if lines and lines[0].startswith(":"):
            events.append(("ping", None))
            continue
        name = next((ln[7:] for ln in lines if ln.startswith("event: ")), None)
        data = "\n".join(ln[6:] for ln in lines if ln.startswith("data: "))
        if name:
            events.append((name, json.loads(data)))
    return events


def openai_stream_data(res) -> list[str]:
    """The ``data:`` payloads of an OpenAI-compatible SSE response's body, in order."""
    return [line[6:] for line in res.text.splitlines() if line.startswith("data: ")]


def chat(client, key: str, **body: Any):
    """POST /v1/chat; returns (status, JSON body) or (status, SSE events) when streaming."""
    res = client.post(
        "/v1/chat", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    if getattr(res, "streaming", False):
        return res.status_code, parse_sse(b"".join(res).decode())
    return res.status_code, res.json()


SHOP = "https://shop.example"  # the site of the browser-key tests


def browser_chat(key: str, address: str, origin: str = SHOP, message: str = ""):
    """POST /v1/chat as a visitor of ``origin`` at client ``address`` (Django's test client)."""
    from django.test import Client

    return Client(REMOTE_ADDR=address).post(
        "/v1/chat", {"bot": "helper", "message": message or "How do I limit anonymous clients?"},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ORIGIN=origin,
    )  # fmt: skip


def asgi_call(method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    """One request through the whole ASGI app (fast lanes included), JSON ``body`` or none;
    the ``httpx.Response``."""
    import httpx
    from asgiref.sync import async_to_sync

    from chatbot_project.asgi import application

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            content = json.dumps(body).encode() if body is not None else None
            headers_ = {"Content-Type": "application/json", **headers}
            return await client.request(method, path, content=content, headers=headers_)

    return async_to_sync(go)()
