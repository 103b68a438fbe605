"""``Accept: text/event-stream`` asks for SSE whatever its letters' case (media types are
case-insensitive, RFC 9110 8.3.1), on a real server through the fast lane and Django's view.
Before, ``Accept: Text/Event-Stream`` (as some HTTP libraries and proxies write it) was answered
with JSON, after the whole answer had been written."""

from __future__ import annotations

import httpx
import pytest

from conversations.tests.live_fixtures import QUESTION

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("accept", "streamed"),
    [
        ("TEXT/EVENT-STREAM", True),
        ("Text/Event-Stream; charset=utf-8", True),
        ("application/json, text/event-stream", True),
        ("application/json", False),
        ("*/*", False),
    ],
)
def test_accept_asks_for_sse_in_any_case(live, accept, streamed):
    base, key, _ = live
    res = httpx.post(
        f"{base}/v1/chat", json={"bot": "helper", "message": QUESTION}, timeout=30,
        headers={"Authorization": f"Bearer {key}", "Accept": accept},
    )  # fmt: skip
    assert res.status_code == 200, res.text
    kind = res.headers["content-type"]
    assert kind.startswith("text/event-stream" if streamed else "application/json"), accept
    if streamed:
        assert "event: end" in res.text
