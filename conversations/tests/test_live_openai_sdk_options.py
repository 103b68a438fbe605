"""The official openai SDK against the real app in a server process (the local OpenAI-compatible
stub as the model, over real HTTP): the sampling options it sends are checked as OpenAI checks
them (`e.param` names a refused one), `temperature` and `max_completion_tokens` reach the model,
and a model provider's rate limit reaches the SDK as a wait it honours (`Retry-After`)."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from chatbot_project.testing.openai_stub import Script
from conversations.tests.live_fixtures import QUESTION

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ASK = {"model": "helper", "messages": [{"role": "user", "content": QUESTION}]}


def test_the_sdks_sampling_options_are_checked_and_honoured(live):
    base, key, stub = live
    stub.script = Script(reply="Use AnonRateThrottle [1].")
    client = openai.OpenAI(base_url=f"{base}/v1/openai", api_key=key, max_retries=0)
    for name, value in (("temperature", 5), ("top_p", 2), ("stop", ["a", "b", "c", "d", "e"])):
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(**ASK, **{name: value})
        assert refused.value.param == name  # was served (200) with the bot's settings
        assert refused.value.code == "invalid_request"
    assert stub.chat_requests() == []

    completion = client.chat.completions.create(
        **ASK, temperature=0.3, max_completion_tokens=4, top_p=0.9, seed=7, stop=["\n\n"]
    )
    assert completion.choices[0].message.content == "Use AnonRateThrottle [1]."
    sent = stub.chat_requests()[-1].body
    assert (sent["temperature"], sent["max_tokens"]) == (0.3, 4)

    stub.script = Script(reply="Use AnonRateThrottle", finish_reason="length")  # cut at 3
    chunks = list(client.chat.completions.create(**ASK, stream=True, max_tokens=3))
    assert chunks[-1].choices[0].finish_reason == "length"
    assert stub.chat_requests()[-1].body["max_tokens"] == 3


def test_the_sdk_waits_as_the_rate_limiting_provider_asks(live):
    base, key, stub = live
    stub.script = Script(status=429)  # the stub's 429 says Retry-After: 1
    client = openai.OpenAI(base_url=f"{base}/v1/openai", api_key=key, max_retries=0)
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(**ASK)
    error = failed.value
    assert error.status_code == 502  # API.md's upstream_error
    assert error.code == "upstream_error"
    assert error.response.headers["retry-after"] == "1"
    assert "model provider is rate limiting this service" in error.message
    assert error.body["details"]["retry_after"] == 1

    # With a retry, the SDK sleeps the second asked (its own backoff is 0.375..0.5 s).
    client = openai.OpenAI(base_url=f"{base}/v1/openai", api_key=key, max_retries=1)
    before, started = len(stub.chat_requests()), time.monotonic()
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(**ASK)
    assert time.monotonic() - started >= 0.95
    assert len(stub.chat_requests()) - before == 2


def test_the_sdk_does_not_retry_what_the_provider_refused(live):
    base, key, stub = live
    stub.script = Script(status=401)  # this service's provider credentials are wrong
    client = openai.OpenAI(base_url=f"{base}/v1/openai", api_key=key, max_retries=2)
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(**ASK)
    assert "retrying will not help" in failed.value.message
    assert len(stub.chat_requests()) == 1  # was 3: the SDK retried the 502 twice


def test_chat_json_passes_the_providers_wait_on_in_both_lanes(live):
    """POST /v1/chat without streaming: the fast lane (chat_asgi) answers its errors itself."""
    base, key, stub = live
    stub.script = Script(status=429)  # Retry-After: 1
    res = httpx.post(
        f"{base}/v1/chat", json={"bot": "helper", "message": QUESTION},
        headers={"Authorization": f"Bearer {key}"}, timeout=10,
    )  # fmt: skip
    assert res.status_code == 502
    assert res.headers["retry-after"] == "1"
    assert res.json()["error"]["details"]["retry_after"] == 1
    stub.script = Script(status=401)
    res = httpx.post(
        f"{base}/v1/chat", json={"bot": "helper", "message": QUESTION},
        headers={"Authorization": f"Bearer {key}"}, timeout=10,
    )  # fmt: skip
    assert res.status_code == 502
    assert res.headers["x-should-retry"] == "false"
