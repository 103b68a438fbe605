"""/v1/openai/chat/completions streamed: ``usage`` as OpenAI sends it. Without
``stream_options: {"include_usage": true}`` no chunk carries usage; with it every chunk has
``"usage": null`` and one last chunk (before ``[DONE]``) has ``"choices": []`` and the usage.
``stream_options`` is only taken with ``"stream": true`` (OpenAI's 400 otherwise)."""

from __future__ import annotations

import json

import openai
import pytest

from chatbot_project.testing.openai_stub import Script
from conversations.models import Conversation
from conversations.tests.live_fixtures import QUESTION

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"
BOOL = "`stream_options.include_usage` must be true or false"
USAGE_KEYS = {"prompt_tokens", "completion_tokens", "total_tokens"}


def stream(client, key, **extra):
    body = {"model": "helper", "messages": [{"role": "user", "content": Q}], **extra}
    res = client.post(
        "/v1/openai/chat/completions", body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    return res


def chunks_of(res) -> list[dict]:
    assert res.status_code == 200, res.content
    raw = b"".join(res).decode()
    lines = [ln[6:] for ln in raw.split("\n") if ln.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(x) for x in lines[:-1]]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"stream_options": None},
        {"stream_options": {}},
        {"stream_options": {"include_usage": False}},
        {"stream_options": {"include_usage": None}},  # null = absent, as elsewhere
    ],
)
def test_no_usage_in_chunks_unless_asked(client, kb, make_key, openai_stub, extra):
    openai_stub.script.reply = "Use AnonRateThrottle [1]."
    chunks = chunks_of(stream(client, make_key(kb.tenant), stream=True, **extra))
    assert not [c for c in chunks if "usage" in c]  # the finish chunk carried it always
    assert chunks[0]["citations"][0]["document_title"] == "Throttling"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Use AnonRateThrottle [1]."


def test_include_usage_adds_a_last_chunk_with_usage_and_no_choices(
    client, kb, make_key, openai_stub
):
    openai_stub.script.reply = "Use AnonRateThrottle [1]."
    res = stream(client, make_key(kb.tenant), stream=True, stream_options={"include_usage": True})
    chunks = chunks_of(res)
    *answer, last = chunks
    assert all("usage" in c and c["usage"] is None for c in answer)
    assert last["choices"] == []
    assert set(last["usage"]) == USAGE_KEYS
    assert last["usage"]["total_tokens"] == (
        last["usage"]["prompt_tokens"] + last["usage"]["completion_tokens"]
    )
    assert last["usage"]["completion_tokens"] > 0
    assert {c["id"] for c in chunks} == {last["id"]}
    assert (last["object"], last["model"]) == ("chat.completion.chunk", "helper")
    assert answer[-1]["choices"][0]["finish_reason"] == "stop"
    assert answer[0]["citations"][0]["document_title"] == "Throttling"  # where it was
    assert all("citations" not in c for c in chunks[1:])
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in answer)
    assert text == "Use AnonRateThrottle [1]."


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"stream": True, "stream_options": "include_usage"}, "`stream_options` must be an object"),
        ({"stream": True, "stream_options": [True]}, "`stream_options` must be an object"),
        ({"stream": True, "stream_options": {"include_usage": "true"}}, BOOL),
        ({"stream": True, "stream_options": {"include_usage": 1}}, BOOL),
        ({"stream": True, "stream_options": {"include_usage": [True]}}, BOOL),
        ({"stream_options": {"include_usage": True}}, "only allowed when `stream` is true"),
        ({"stream": False, "stream_options": {"include_usage": True}}, "only allowed when"),
        ({"stream": False, "stream_options": {}}, "only allowed when `stream` is true"),
    ],
)
def test_bad_stream_options_are_a_400(client, kb, make_key, openai_stub, extra, words):
    res = stream(client, make_key(kb.tenant), **extra)
    assert res.status_code == 400, res.content
    error = res.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request", "invalid_request")
    assert words in error["message"]
    assert openai_stub.chat_requests() == []
    assert not Conversation.objects.exists()


def test_stream_options_null_without_stream_is_absent(client, kb, make_key, openai_stub):
    res = stream(client, make_key(kb.tenant), stream_options=None)
    assert res.status_code == 200, res.content
    assert set(res.json()["usage"]) == USAGE_KEYS  # the unstreamed answer keeps its usage


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_official_sdk_reads_both_stream_forms(live):
    base, key, stub = live
    stub.script = Script(reply="Use AnonRateThrottle [1].")
    client = openai.OpenAI(base_url=f"{base}/v1/openai", api_key=key, max_retries=0)
    messages = [{"role": "user", "content": QUESTION}]

    plain = list(client.chat.completions.create(model="helper", messages=messages, stream=True))
    assert all(c.usage is None for c in plain)
    assert plain[-1].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].delta.content or "" for c in plain) == "Use AnonRateThrottle [1]."

    options = {"include_usage": True}
    sdk = client.chat.completions.create
    chunks = list(sdk(model="helper", messages=messages, stream=True, stream_options=options))
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.total_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[0].model_extra["citations"][0]["document_title"] == "Throttling"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Use AnonRateThrottle [1]."

    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(
            model="helper", messages=messages, stream_options={"include_usage": True}
        )
    assert bad.value.code == "invalid_request"
