"""An upstream (model provider) error: the client's sentence says whether retrying can help, and
the server log keeps what the provider said (the client is not shown it)."""

from __future__ import annotations

import logging

import pytest

from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "refused this service's credentials"),
        (403, "refused this service's credentials"),
        (404, "check the bot's `model`"),
        (400, "refused the request (HTTP 400)"),
    ],
)
def test_refusals_do_not_invite_a_retry_and_are_logged(
    client, key, openai_stub, caplog, status, words
):
    caplog.set_level(logging.WARNING, logger="chatbot.llm")
    openai_stub.script.status = status
    code, body = chat(client, key, bot="helper", message=Q)
    assert code == 502
    assert body["error"]["type"] == "upstream_error"
    assert words in body["error"]["message"]
    assert "try again" not in body["error"]["message"]
    assert f"stub failure {status}" not in body["error"]["message"]  # the provider's text: log
    logged = [r.getMessage() for r in caplog.records if r.name == "chatbot.llm"]
    assert any(f"HTTP {status}" in m and f"stub failure {status}" in m for m in logged), logged


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_failures_invite_a_retry(client, key, openai_stub, caplog, status):
    caplog.set_level(logging.WARNING, logger="chatbot.llm")
    openai_stub.script.status = status
    code, body = chat(client, key, bot="helper", message=Q, stream=True)
    assert code == 200
    error = body[-1]
    assert error[0] == "error"
    assert "try again shortly" in error[1]["error"]["message"]
    assert any(f"stub failure {status}" in r.getMessage() for r in caplog.records)


def test_unreachable_provider_is_logged(client, key, openai_stub, settings, caplog):
    caplog.set_level(logging.WARNING, logger="chatbot.llm")
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: connection refused
    code, body = chat(client, key, bot="helper", message=Q)
    assert code == 502
    assert "could not be reached" in body["error"]["message"]
    assert any("127.0.0.1:9" in r.getMessage() for r in caplog.records if r.name == "chatbot.llm")


@pytest.mark.parametrize("status", [401, 0])
def test_the_log_names_the_provider_without_its_credentials(
    client, key, openai_stub, settings, caplog, status
):
    """A gateway's credentials in OPENAI_BASE_URL (user info, a query) are not logged with
    every upstream failure; the host, port and path are."""
    caplog.set_level(logging.WARNING, logger="chatbot.llm")
    base = openai_stub.base_url if status else "http://127.0.0.1:9/v1"  # 0: unreachable
    scheme, rest = base.split("://", 1)
    settings.OPENAI_BASE_URL = f"{scheme}://gw-user:gw-s3cret@{rest}?key=q-s3cret"
    openai_stub.script.status = status or 200
    code, _ = chat(client, key, bot="helper", message=Q)
    assert code == 502
    logged = [r.getMessage() for r in caplog.records if r.name == "chatbot.llm"]
    assert logged
    assert any(f"model provider {base} " in m for m in logged), logged
    assert not any("s3cret" in m or "gw-user" in m for m in logged), logged
