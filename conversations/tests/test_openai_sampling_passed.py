"""/v1/openai/chat/completions passes OpenAI's other sampling options on: `top_p`, the penalties,
`stop`, `seed` and `logit_bias` reach the model (the local OpenAI-compatible stub, over real
HTTP) as the client sent them, and only when it sent them, over the lean upstream client and
over httpx both; the offline extractive provider ends its answer before the first `stop`
string. They used to be checked and then dropped: the model never saw them and `stop` stopped
nothing."""

from __future__ import annotations

import json

import openai
import pytest

from chatbot_project.testing.openai_stub import Script
from chatbot_project.testing.processes import start_server, stop
from conversations.extractive import extractive_answer
from conversations.models import Message
from conversations.prompting import count_tokens

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"
OPTIONS = {
    "top_p": 0.4,
    "presence_penalty": -1.5,
    "frequency_penalty": 0.25,
    "stop": ["\n\n", "END"],
    "seed": -(2**63),
    "logit_bias": {"50256": -100, "13": 2.5},
}
PASSED = tuple(OPTIONS)
# LLM_HTTP_CLIENT for the lean client (upstream_http.py) and httpx, and what each says it is.
SETTING = {"lean": "auto", "httpx": "httpx"}
AGENT = {"lean": "chatbot-platform", "httpx": "python-httpx/"}


def post(client, key, body):
    return client.post(
        "/v1/openai/chat/completions", {"model": "helper", **body},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip


def ask(**extra):
    return {"messages": [{"role": "user", "content": Q}], **extra}


def answer(res, stream):
    """(text, finish_reason) of a completion, streamed or not."""
    assert res.status_code == 200, res.content
    if not stream:
        choice = res.json()["choices"][0]
        return choice["message"]["content"], choice["finish_reason"]
    lines = [ln[6:] for ln in b"".join(res).decode().split("\n") if ln.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(x) for x in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    return text, chunks[-1]["choices"][0]["finish_reason"]


@pytest.fixture(params=["lean", "httpx"])
def upstream(request, openai_stub, settings):
    """The stub, reached through the lean client or through httpx."""
    settings.LLM_HTTP_CLIENT = SETTING[request.param]
    openai_stub.agent = AGENT[request.param]
    return openai_stub


def sent(stub):
    request = stub.chat_requests()[-1]
    assert request.headers.get("user-agent", "").startswith(stub.agent)  # the client meant
    return request.body


@pytest.mark.parametrize("stream", [False, True])
def test_each_option_reaches_the_model_as_sent(client, kb, make_key, upstream, stream):
    key = make_key(kb.tenant)
    assert answer(post(client, key, ask(stream=stream, **OPTIONS)), stream)[0]
    body = sent(upstream)
    assert {name: body.get(name) for name in PASSED} == OPTIONS
    assert body["temperature"] == kb.bot.temperature  # the others are as they were
    assert body["stream"] is True
    for name, value in OPTIONS.items():  # one at a time: only that one goes
        assert answer(post(client, key, ask(stream=stream, **{name: value})), stream)[0]
        body = sent(upstream)
        assert [n for n in PASSED if n in body] == [name]
        assert body[name] == value


@pytest.mark.parametrize(
    ("name", "value"),
    [("stop", "END"), ("seed", 0), ("top_p", 0), ("presence_penalty", 0), ("top_p", 1)],
)
def test_a_single_or_zero_value_is_sent_as_it_came(client, kb, make_key, upstream, name, value):
    """A `stop` string stays a string; 0 is a value, not an absent option."""
    assert post(client, make_key(kb.tenant), ask(**{name: value})).status_code == 200
    body = sent(upstream)
    assert body[name] == value
    assert type(body[name]) is type(value)


@pytest.mark.parametrize(
    "extra",
    [
        {},
        dict.fromkeys(PASSED),  # null is absent, as OpenAI takes it (LangChain sends these)
        {"stop": [], "logit_bias": {}},  # asks for nothing: not sent (some providers refuse [])
    ],
)
def test_an_option_not_given_is_not_sent(client, kb, make_key, upstream, extra):
    assert post(client, make_key(kb.tenant), ask(**extra)).status_code == 200
    body = sent(upstream)
    assert [n for n in PASSED if n in body] == []  # the model's own defaults apply
    assert {"model", "messages", "temperature", "max_tokens", "stream"} <= set(body)


def test_the_options_do_not_reach_the_model_from_chat(client, kb, make_key, openai_stub):
    """POST /v1/chat takes none of them (API.md's chat body): refused, as before."""
    res = client.post(
        "/v1/chat", {"bot": "helper", "message": Q, "stop": ["x"]},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {make_key(kb.tenant)}",
    )  # fmt: skip
    assert res.status_code == 400
    assert res.json()["error"]["details"]["unknown_fields"] == ["stop"]
    assert openai_stub.chat_requests() == []


@pytest.mark.parametrize("stream", [False, True])
def test_stop_ends_the_extractive_answer_before_the_first_stop_string(
    client, kb, make_key, settings, stream
):
    settings.CHAT_PROVIDER = "extractive"
    key = make_key(kb.tenant)
    full, finish = answer(post(client, key, ask(stream=stream)), stream)
    assert finish == "stop"
    first = full[: full.index(" [")]  # up to the first citation mark
    assert "[" not in first
    assert len(first) > 40
    for stop_, expected in (
        (" [", first),
        (["not in it", " ["], first),
        (["", " ["], first),  # an empty string stops nothing
        (["[", "not in it"], first + " "),  # the text before it exactly, its space too
        (["[3]", "[2]", "[1]", " ["], first),  # the first to come, whatever its place
    ):
        text, finish = answer(post(client, key, ask(stream=stream, stop=stop_)), stream)
        assert (text, finish) == (expected, "stop"), stop_  # the whole answer was sent
    text, finish = answer(post(client, key, ask(stream=stream, stop=["not in it", ""])), stream)
    assert (text, finish) == (full, "stop")  # no stop string in it: the whole answer
    # Whichever comes first: a max_tokens cut before the stop string is a "length".
    text, finish = answer(post(client, key, ask(stream=stream, stop=" [", max_tokens=3)), stream)
    assert finish == "length"
    assert first.startswith(text)
    assert count_tokens(text) <= 3


def test_the_extractive_answer_cut_at_stop_is_stored_and_counted(client, kb, make_key, settings):
    settings.CHAT_PROVIDER = "extractive"
    res = post(client, make_key(kb.tenant), ask(stop="From the documentation"))
    body = res.json()
    assert body["choices"][0]["message"]["content"] == ""  # it opens with the stop string
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["completion_tokens"] == 0
    res = post(client, make_key(kb.tenant), ask(stop=" ["))
    text = res.json()["choices"][0]["message"]["content"]
    assert res.json()["usage"]["completion_tokens"] == count_tokens(text) > 0
    stored = Message.objects.get(id=res.json()["id"].removeprefix("chatcmpl-"))
    assert (stored.content, stored.finish_reason) == (text, "stop")


def test_extractive_stop_keeps_the_text_before_it_exactly():
    import asyncio
    from types import SimpleNamespace

    from conversations.extractive import ExtractiveProvider

    source = SimpleNamespace(
        text="Throttling\nUse AnonRateThrottle to limit anonymous clients per day, "
        "for example 100 requests.",
        document_title="Throttling",
    )
    full = extractive_answer(Q, [source])

    async def run(stop_):
        stream = ExtractiveProvider().stream(
            messages=[{"role": "user", "content": Q}], model="extractive", temperature=0,
            max_tokens=500, sources=[source], question=Q, sampling={"stop": stop_},
        )  # fmt: skip
        return [c async for c in stream]

    chunks = asyncio.run(run("clients"))
    text = "".join(c.text for c in chunks)
    assert text == full[: full.index("clients")]  # its trailing space included
    assert text.endswith("anonymous ")
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage["completion_tokens"] == count_tokens(text)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("http_client", ["lean", "httpx"])
def test_the_openai_sdks_options_reach_the_model_through_a_real_server(
    openai_stub, tenant, make_key, http_client
):
    """The openai SDK against the app in a server process, the stub as its model."""
    from conversations.tests.conftest import build_kb

    build_kb(tenant)
    key = make_key(tenant)
    proc, base = start_server(
        OPENAI_BASE_URL=openai_stub.base_url, OPENAI_API_KEY="sk-stub", CHAT_PROVIDER="openai",
        CHAT_MODEL="stub-model", EMBEDDING_PROVIDER="local", LLM_HTTP_CLIENT=SETTING[http_client],
        RATE_LIMIT_DEFAULT="1000/m", CHAT_DB_THREAD_SENSITIVE="false",
    )  # fmt: skip
    openai_stub.agent = AGENT[http_client]
    try:
        openai_stub.script = Script(reply="Use AnonRateThrottle [1].")
        sdk = openai.OpenAI(base_url=f"{base}/v1/openai", api_key=key, max_retries=0)
        messages = [{"role": "user", "content": Q}]
        completion = sdk.chat.completions.create(model="helper", messages=messages, **OPTIONS)
        assert completion.choices[0].message.content == "Use AnonRateThrottle [1]."
        assert {n: sent(openai_stub).get(n) for n in PASSED} == OPTIONS
        chunks = list(
            sdk.chat.completions.create(model="helper", messages=messages, stream=True, seed=7)
        )
        assert chunks[-1].choices[0].finish_reason == "stop"
        body = sent(openai_stub)
        assert body["seed"] == 7
        assert [n for n in PASSED if n in body] == ["seed"]
    finally:
        stop(proc)
