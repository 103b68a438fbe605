"""A model provider that rate limits (429) and says how long to wait: the wait is passed on, as
`Retry-After` on a JSON error (the chat's 502 `upstream_error`, API.md's type for a provider
failure) and as `details.retry_after` in the error body and in a stream's error event, with a
message saying that the model provider is rate limiting. The provider is the local OpenAI-
compatible stub over real HTTP; its error answers' headers are set per test."""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import pytest

from chatbot_project.testing import openai_stub as stub_module
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"
RATE_LIMITED = "The model provider is rate limiting this service (429); try again shortly"


@pytest.fixture
def provider_headers(openai_stub, monkeypatch):
    """The headers of the stub's error answers (its own 429 sends `Retry-After: 1`): a value
    of None removes the header."""
    headers: dict[str, str | None] = {}
    send = stub_module._Handler._send_json

    def with_headers(self, status, payload, extra=None):
        if status != 200:
            merged = {**(extra or {}), **headers}
            extra = {k: v for k, v in merged.items() if v is not None}
        send(self, status, payload, extra)

    monkeypatch.setattr(stub_module._Handler, "_send_json", with_headers)
    openai_stub.script.status = 429
    return headers


def openai_post(client, key, **extra):
    return client.post(
        "/v1/openai/chat/completions",
        {"model": "helper", "messages": [{"role": "user", "content": Q}], **extra},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip


def test_chat_json_passes_the_providers_retry_after_on(client, key, provider_headers):
    provider_headers["Retry-After"] = "7"
    res = client.post(
        "/v1/chat", {"bot": "helper", "message": Q}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert res.status_code == 502
    assert res["Retry-After"] == "7"
    error = res.json()["error"]
    assert error["type"] == "upstream_error"
    assert error["message"] == f"{RATE_LIMITED}: it asks this service to wait 7 s."
    assert error["details"]["retry_after"] == 7
    assert set(error["details"]) == {"retry_after", "conversation_id", "message_id"}


def test_chat_sse_error_event_carries_retry_after(client, key, provider_headers):
    provider_headers["Retry-After"] = "12"
    code, events = chat(client, key, bot="helper", message=Q, stream=True)
    assert code == 200
    name, data = events[-1]
    assert name == "error"
    assert data["error"]["type"] == "upstream_error"
    assert data["error"]["details"] == {"retry_after": 12}
    assert RATE_LIMITED in data["error"]["message"]


def test_openai_route_passes_retry_after_on_json_and_stream(client, key, provider_headers):
    provider_headers["Retry-After"] = "3"
    res = openai_post(client, key)
    assert res.status_code == 502
    assert res["Retry-After"] == "3"  # the openai SDKs wait this long before their retry
    error = res.json()["error"]
    assert (error["type"], error["code"]) == ("upstream_error", "upstream_error")
    assert error["details"]["retry_after"] == 3
    assert RATE_LIMITED in error["message"]

    res = openai_post(client, key, stream=True)
    lines = [ln[6:] for ln in b"".join(res).decode().split("\n") if ln.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    error = json.loads(lines[-2])["error"]
    assert error["code"] == "upstream_error"
    assert error["details"] == {"retry_after": 3}
    assert RATE_LIMITED in error["message"]


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 2),  # OpenAI's ms header first
        ({"retry-after-ms": "20", "Retry-After": None}, 1),  # at least a second
        ({"retry-after-ms": "soon", "Retry-After": "4"}, 4),
        ({"Retry-After": "2.5"}, 3),
        ({"Retry-After": "10000000"}, 86_400),  # capped at a day
    ],
)
def test_the_wait_is_read_as_openais_sdks_read_it(client, key, provider_headers, headers, seconds):
    provider_headers.update(headers)
    res = openai_post(client, key)
    assert res.status_code == 502
    assert res["Retry-After"] == str(seconds)
    assert res.json()["error"]["details"]["retry_after"] == seconds


def test_an_http_date_retry_after_becomes_seconds(client, key, provider_headers):
    provider_headers["Retry-After"] = formatdate(time.time() + 30, usegmt=True)
    res = openai_post(client, key)
    assert res.status_code == 502
    assert 28 <= int(res["Retry-After"]) <= 31
    assert res.json()["error"]["details"]["retry_after"] == int(res["Retry-After"])


@pytest.mark.parametrize("value", [None, "", "whenever"])
def test_without_a_readable_wait_nothing_is_invented(client, key, provider_headers, value):
    provider_headers["Retry-After"] = value
    res = openai_post(client, key)
    assert res.status_code == 502
    assert "Retry-After" not in res
    error = res.json()["error"]
    assert "retry_after" not in error["details"]
    assert error["message"] == f"{RATE_LIMITED}."


def test_another_upstream_error_passes_its_wait_on(client, key, provider_headers, openai_stub):
    openai_stub.script.status = 503
    provider_headers["Retry-After"] = "5"
    res = openai_post(client, key)
    assert res.status_code == 502
    assert res["Retry-After"] == "5"
    assert res.json()["error"]["details"]["retry_after"] == 5
    assert "HTTP 503; try again shortly" in res.json()["error"]["message"]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_refusal_retrying_cannot_help_says_so(client, key, openai_stub, status):
    """The provider refused the request itself (credentials, model, request): the 502 says
    `X-Should-Retry: false`, which the openai SDKs obey instead of retrying it twice (each
    retry a new conversation and a new upstream call), and `details.retryable` false."""
    openai_stub.script.status = status
    res = openai_post(client, key)
    assert res.status_code == 502
    assert res["X-Should-Retry"] == "false"
    assert res.json()["error"]["details"]["retryable"] is False
    assert "Retry-After" not in res
    code, events = chat(client, key, bot="helper", message=Q, stream=True)
    assert code == 200
    assert events[-1][1]["error"]["details"] == {"retryable": False}


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503])
def test_a_failure_retrying_may_help_does_not_forbid_it(client, key, openai_stub, status):
    openai_stub.script.status = status
    res = openai_post(client, key)
    assert res.status_code == 502
    assert "X-Should-Retry" not in res
    assert "retryable" not in res.json()["error"]["details"]


@pytest.mark.django_db(transaction=True)
def test_the_websocket_error_event_carries_the_wait(kb, make_key, openai_stub):
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from chatbot_project.asgi import application
    from conversations.tests.test_websocket import _collect

    key = make_key(kb.tenant)
    openai_stub.script.status = 429  # the stub's Retry-After: 1

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        events = await _collect(comm)
        await comm.disconnect()
        return events

    error = async_to_sync(run)()[-1]
    assert error["type"] == "error"
    assert error["error"]["type"] == "upstream_error"
    assert error["error"]["details"] == {"retry_after": 1}
    assert RATE_LIMITED in error["error"]["message"]
