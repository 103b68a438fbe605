"""/v1/openai/chat/completions: OpenAI's sampling options are checked as OpenAI checks them (a
value OpenAI refuses is a 400 naming its `param`, not silently served), and `temperature` and
`max_tokens` / `max_completion_tokens` are honoured: the model (the local OpenAI-compatible stub
over real HTTP) receives them, and an answer cut at the limit ends with `finish_reason: length`."""

from __future__ import annotations

import json

import pytest

from conversations.models import Conversation

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"


def post(client, key, body):
    return client.post(
        "/v1/openai/chat/completions", {"model": "helper", **body},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip


NULLS = dict.fromkeys(
    ["temperature", "top_p", "stop", "seed", "max_tokens", "max_completion_tokens",
     "presence_penalty", "frequency_penalty", "logit_bias", "parallel_tool_calls", "store",
     "logprobs"]
)  # fmt: skip


def ask(**extra):
    return {"messages": [{"role": "user", "content": Q}], **extra}


@pytest.mark.parametrize(
    ("extra", "param", "words"),
    [
        ({"temperature": 5}, "temperature", "`temperature` must be a number from 0 to 2"),
        ({"temperature": 2.01}, "temperature", "from 0 to 2"),
        ({"temperature": -0.1}, "temperature", "from 0 to 2"),
        ({"temperature": "0.5"}, "temperature", "must be a number"),
        ({"temperature": True}, "temperature", "must be a number"),
        ({"top_p": 1.5}, "top_p", "`top_p` must be a number from 0 to 1"),
        ({"top_p": -1}, "top_p", "from 0 to 1"),
        ({"presence_penalty": 3}, "presence_penalty", "from -2 to 2"),
        ({"frequency_penalty": -2.5}, "frequency_penalty", "from -2 to 2"),
        ({"frequency_penalty": [1]}, "frequency_penalty", "must be a number"),
        ({"max_tokens": 0}, "max_tokens", "`max_tokens` must be a positive integer"),
        ({"max_tokens": -3}, "max_tokens", "positive integer"),
        ({"max_tokens": 1.5}, "max_tokens", "positive integer"),
        ({"max_tokens": "10"}, "max_tokens", "positive integer"),
        ({"max_tokens": True}, "max_tokens", "positive integer"),
        # The one not used was not checked: OpenAI refuses either.
        ({"max_completion_tokens": 5, "max_tokens": "x"}, "max_tokens", "positive integer"),
        ({"max_completion_tokens": 0}, "max_completion_tokens", "positive integer"),
        ({"stop": 5}, "stop", "`stop` must be a string or a list of strings"),
        ({"stop": ["a", 1]}, "stop", "list of strings"),
        ({"stop": {"a": "b"}}, "stop", "list of strings"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "`stop` takes at most 4 sequences"),
        ({"seed": 1.5}, "seed", "`seed` must be an integer"),
        ({"seed": "7"}, "seed", "`seed` must be an integer"),
        ({"seed": False}, "seed", "`seed` must be an integer"),
        ({"seed": 2**63}, "seed", "`seed` must be an integer"),
        ({"parallel_tool_calls": "yes"}, "parallel_tool_calls", "must be true or false"),
        ({"store": 1}, "store", "`store` must be true or false"),
        ({"logit_bias": [1, 2]}, "logit_bias", "`logit_bias` must be an object"),
        ({"logit_bias": {"50256": 101}}, "logit_bias", "from -100 to 100"),
    ],
)
def test_a_sampling_option_openai_refuses_is_a_400_naming_it(
    client, kb, make_key, openai_stub, extra, param, words
):
    res = post(client, make_key(kb.tenant), ask(**extra))
    assert res.status_code == 400, res.content
    error = res.json()["error"]
    assert error["type"] == "invalid_request"
    assert error["code"] == "invalid_request"
    assert words in error["message"]
    assert error["param"] == param  # OpenAI's `param` (the SDK's e.param), not null
    assert error["details"] == {"param": param}
    assert openai_stub.chat_requests() == []
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {},  # what the openai SDKs send by default: no option at all
        {"temperature": 0, "top_p": 0, "presence_penalty": -2, "frequency_penalty": -2},
        {"temperature": 2, "top_p": 1, "presence_penalty": 2, "frequency_penalty": 2},
        {"temperature": 1, "top_p": 0.9, "presence_penalty": 0, "frequency_penalty": 0.5},
        NULLS,  # null is absent, as OpenAI takes it (LangChain sends these)
        {"stop": "\n\n", "seed": -1, "logit_bias": {}, "parallel_tool_calls": True},
        {"stop": [], "seed": 2**63 - 1, "store": False, "logprobs": False},
        {"stop": ["a", "b", "c", "d"], "logit_bias": {"50256": -100, "13": 100}},
    ],
)
def test_valid_sampling_options_are_answered(client, kb, make_key, openai_stub, extra):
    res = post(client, make_key(kb.tenant), ask(**extra))
    assert res.status_code == 200, res.content
    assert res.json()["choices"][0]["message"]["content"] == "Hello from the stub model."


def test_the_requested_temperature_reaches_the_model_and_the_bots_when_absent(
    client, kb, make_key, openai_stub
):
    kb.bot.temperature = 0.2
    kb.bot.save()
    key = make_key(kb.tenant)
    assert post(client, key, ask(temperature=1.3)).status_code == 200
    streamed = post(client, key, ask(temperature=0, stream=True))
    assert b"data: [DONE]" in b"".join(streamed)
    assert post(client, key, ask()).status_code == 200
    assert post(client, key, ask(temperature=None)).status_code == 200
    sent = [r.body["temperature"] for r in openai_stub.chat_requests()]
    assert sent == [1.3, 0, 0.2, 0.2]  # the bot's own was always sent


def test_max_tokens_reaches_the_model_under_the_bots_ceiling(client, kb, make_key, openai_stub):
    kb.bot.max_tokens = 50
    kb.bot.save()
    key = make_key(kb.tenant)
    for extra in (
        {"max_tokens": 7},
        {"max_completion_tokens": 9, "max_tokens": 20},  # OpenAI's newer name wins
        {"max_tokens": 500},  # the bot's max_tokens stays the ceiling
        {},
    ):
        assert post(client, key, ask(**extra)).status_code == 200
    assert [r.body["max_tokens"] for r in openai_stub.chat_requests()] == [7, 9, 50, 50]


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_the_model_cut_at_max_tokens_ends_with_length(
    client, kb, make_key, openai_stub, stream
):
    openai_stub.script.reply = "Use AnonRateThrottle"
    openai_stub.script.finish_reason = "length"
    res = post(client, make_key(kb.tenant), ask(max_tokens=3, stream=stream))
    assert res.status_code == 200
    if stream:
        lines = [ln[6:] for ln in b"".join(res).decode().split("\n") if ln.startswith("data: ")]
        chunks = [json.loads(x) for x in lines[:-1]]
        assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    else:
        assert res.json()["choices"][0]["finish_reason"] == "length"
    assert openai_stub.chat_requests()[-1].body["max_tokens"] == 3


@pytest.mark.parametrize("stream", [False, True])
def test_max_tokens_bounds_the_extractive_answer(client, kb, make_key, settings, stream):
    settings.CHAT_PROVIDER = "extractive"
    key = make_key(kb.tenant)
    full = post(client, key, ask()).json()
    assert full["choices"][0]["finish_reason"] == "stop"
    assert full["usage"]["completion_tokens"] > 5
    res = post(client, key, ask(max_completion_tokens=5, stream=stream, temperature=1.9))
    assert res.status_code == 200
    if stream:
        lines = [ln[6:] for ln in b"".join(res).decode().split("\n") if ln.startswith("data: ")]
        chunks = [json.loads(x) for x in lines[:-1]]
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        finish = chunks[-1]["choices"][0]["finish_reason"]
    else:
        text = res.json()["choices"][0]["message"]["content"]
        finish = res.json()["choices"][0]["finish_reason"]
        assert res.json()["usage"]["completion_tokens"] <= 5
    assert finish == "length"
    assert text
    assert full["choices"][0]["message"]["content"].startswith(text)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": 5}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": Q}, "And per user?"]}, "messages[1]"),
        ({"messages": [{"role": "User", "content": Q}]}, "messages[0].role"),
        (ask(stream="yes"), "stream"),
        (ask(n=2), "n"),
        (ask(tool_choice="required"), "tool_choice"),
        (ask(response_format={"type": "json_object"}), "response_format"),
        (ask(logprobs=True), "logprobs"),
        (ask(top_logprobs=2), "top_logprobs"),
        (ask(modalities=["audio"]), "modalities"),
        (ask(stream_options={"include_usage": True}), "stream_options"),
        (ask(stream=True, stream_options={"include_usage": 1}), "stream_options.include_usage"),
        (ask(user=5), "user"),
        (ask(scope=5), "scope"),
    ],
)
def test_every_refused_parameter_is_named_in_param(client, kb, make_key, openai_stub, body, param):
    """OpenAI names the parameter of a 400 in `param` (the SDK's `e.param`); it was null."""
    res = post(client, make_key(kb.tenant), body)
    assert res.status_code == 400, res.content
    assert res.json()["error"]["param"] == param
    assert openai_stub.chat_requests() == []
