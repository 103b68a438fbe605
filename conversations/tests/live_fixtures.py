"""The ``live`` fixture (the real ASGI app in a server process, through the fast lane and
through Django's view) and an SSE line parser, for the tests that need a real server."""

from __future__ import annotations

import json

import httpx
import pytest

from chatbot_project.testing.processes import start_server, stop

QUESTION = "How do I limit anonymous clients per day?"


@pytest.fixture(params=["fast lane", "django"])
def live(request, openai_stub, tenant, make_key):
    """Each test twice: through the fast lane (chatbot_project/fastlane.py: the key is verified
    once by a warm-up request and stays cached, so the test's plain requests skip Django) and
    with FAST_LANE off (every request through Django's view)."""
    from conversations.tests.conftest import build_kb

    build_kb(tenant)
    key = make_key(tenant)
    lane = request.param == "fast lane"
    proc, base = start_server(
        OPENAI_BASE_URL=openai_stub.base_url,
        OPENAI_API_KEY="sk-stub",
        CHAT_PROVIDER="openai",
        CHAT_MODEL="stub-model",
        EMBEDDING_PROVIDER="local",
        SSE_PING_SECONDS="0.2",
        CHAT_DB_THREAD_SENSITIVE="false",
        RATE_LIMIT_DEFAULT="1000/m",
        FAST_LANE="true" if lane else "false",
        API_KEY_CACHE_SECONDS="300",
    )
    try:
        if lane:
            res = httpx.post(
                f"{base}/v1/retrieve", json={"bot": "helper", "query": "warm-up"},
                headers={"Authorization": f"Bearer {key}"}, timeout=30,
            )  # fmt: skip
            assert res.status_code == 200, res.text
        yield base, key, openai_stub
    finally:
        stop(proc)


def read_events(lines):
    """Parse SSE from an iterator of lines into (event, data) pairs; comments as ("ping", None)."""
    event, data = None, []
    for line in lines:
        if line.startswith(":"):
            yield "ping", None
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and event is not None:
            yield event, json.loads("\n".join(data))
            event, data = None, []
