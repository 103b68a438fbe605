"""No API key, token or end user's id from a query string reaches a log line.

Django logs every 5xx answer (``django.request``: a bug's 500, a database outage's 503) with the
request as an extra; the JSON formatter wrote it out as ``<ASGIRequest: GET
'/v1/conversations?user=alice&key=sk_...'>``, query string and all (privacy and hardening
review). The WebSocket takes its key as ``?key=`` (API.md). The console handler's formatters
(JSON and text) now redact those values in whatever they write.
"""

from __future__ import annotations

import io
import json
import logging
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client

from chatbot_project.logging import JsonFormatter, redact

SECRET = "sk_live_" + "s3cr3t" * 5
USER = "alice@example.com"


@pytest.fixture
def console():
    """What the project's console handler (settings.LOGGING) writes, in each format."""
    from logging.config import DictConfigurator

    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    configurator = DictConfigurator(settings.LOGGING)
    formatters = {
        name: configurator.configure_formatter(dict(conf))
        for name, conf in settings.LOGGING["formatters"].items()
    }
    stream = io.StringIO()
    previous_stream = handler.setStream(stream)
    previous_formatter = handler.formatter

    def capture(fmt: str, work) -> str:
        handler.setFormatter(formatters[fmt])
        stream.seek(0)
        stream.truncate()
        work()
        return stream.getvalue()

    try:
        yield capture
    finally:
        handler.setStream(previous_stream)
        handler.setFormatter(previous_formatter)


def _failing_request() -> None:
    client = Client(raise_request_exception=False)
    with mock.patch(
        "apikeys.authentication.APIKeyAuthentication.authenticate",
        side_effect=RuntimeError("boom"),
    ):
        res = client.get(f"/v1/conversations?user={USER}&key={SECRET}&limit=5")
    assert res.status_code == 500


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_failing_request_logs_no_key_and_no_end_user(console, fmt):
    out = console(fmt, _failing_request)
    assert "/v1/conversations" in out  # the failure itself is logged
    assert "boom" in out
    assert SECRET not in out
    assert "s3cr3t" not in out
    assert USER not in out
    assert "alice" not in out
    if fmt == "json":
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        request = [line for line in lines if line["logger"] == "django.request"]
        assert request, lines
        assert "key=[redacted]" in request[0]["request"]
        assert "limit=5" in request[0]["request"]  # other parameters stay


def test_redact_names_the_sensitive_parameters_only():
    for name in ("key", "api_key", "apikey", "token", "access_token", "refresh_token", "user",
                 "KEY", "password", "secret"):  # fmt: skip
        line = f"GET /ws/chat/?bot=docs&{name}=abc123&limit=5 failed"
        assert redact(line) == f"GET /ws/chat/?bot=docs&{name}=[redacted]&limit=5 failed"
    assert redact(f"'/v1/x?key={SECRET}'>") == "'/v1/x?key=[redacted]'>"
    for kept in ("sorted(rows, key=lambda r: r.id)", "monkey=1", "?bot=key&cursor=abc"):
        assert redact(kept) == kept


def test_a_message_carrying_a_url_is_redacted_too():
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" 403',
        ("127.0.0.1:5000", f"/ws/chat/?key={SECRET}"), None,
    )  # fmt: skip
    assert SECRET not in JsonFormatter().format(record)
