"""Every streamed answer announces its keep-alive interval in ``X-SSE-Ping-Seconds`` (fast lane
and Django view alike), exposed to browsers: the widget gives up on a connection silent for three
of them (test_browser_widget_network.py drives that in Chromium)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_a_streamed_chat_announces_its_keep_alive_interval(
    chat_requests, openai_stub, settings, lane
):
    settings.SSE_PING_SECONDS = 0.5
    res = chat_requests.chat(lane=lane, stream=True)
    assert res.status_code == 200
    assert res.headers["X-SSE-Ping-Seconds"] == "0.5"
    settings.SSE_PING_SECONDS = 15.0
    assert chat_requests.chat(lane=lane, stream=True).headers["X-SSE-Ping-Seconds"] == "15"


def test_browsers_may_read_it():
    assert "x-sse-ping-seconds" in django_settings.CORS_EXPOSE_HEADERS
