"""The offline ``extractive`` provider: quoting answers, cut at ``max_tokens`` like a model's."""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace

import pytest

from conversations.extractive import ExtractiveProvider, extractive_answer
from conversations.models import Message
from conversations.prompting import count_tokens
from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat

Q = "How do I limit anonymous clients per day?"
SOURCES = [
    SimpleNamespace(
        text="API guide > Throttling\nThrottling limits how many requests a client can make. "
        "Use AnonRateThrottle to limit anonymous clients, for example to 100 requests per day.",
        document_title="Throttling",
    )
]
MESSAGES = [
    {"role": "system", "content": "Answer from the sources."},
    {"role": "user", "content": Q},
]


def _stream(max_tokens: int) -> tuple[str, str, dict[str, int]]:
    async def run() -> list:
        provider = ExtractiveProvider()
        stream = provider.stream(
            messages=MESSAGES, model="extractive", temperature=0.0, max_tokens=max_tokens,
            sources=SOURCES, question=Q,
        )  # fmt: skip
        return [chunk async for chunk in stream]

    chunks = asyncio.run(run())
    assert all(c.finish_reason is None for c in chunks[:-1])
    assert not chunks[-1].text
    return "".join(c.text for c in chunks), chunks[-1].finish_reason, chunks[-1].usage


def test_provider_cuts_the_answer_at_max_tokens_with_finish_reason_length():
    full = extractive_answer(Q, SOURCES)
    text, finish, usage = _stream(8)
    assert finish == "length"
    assert usage["completion_tokens"] == count_tokens(text) <= 8
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    # The longest run of whole words of the answer that fits: the next word would pass 8.
    assert full.startswith(text)
    next_word = re.match(r"\s*\S+", full[len(text) :]).group()
    assert count_tokens(text + next_word) > 8
    assert _stream(8) == (text, finish, usage)  # deterministic


def test_provider_answer_that_fits_in_max_tokens_is_whole_with_finish_reason_stop():
    full = extractive_answer(Q, SOURCES)
    text, finish, usage = _stream(count_tokens(full))
    assert (text, finish, usage["completion_tokens"]) == (full, "stop", count_tokens(full))
    text, finish, _ = _stream(count_tokens(full) - 1)
    assert finish == "length"
    assert len(text) < len(full)


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::Warning")
def test_chat_api_honours_the_bots_max_tokens_with_the_extractive_provider(
    client, tenant, make_key, settings
):
    settings.CHAT_PROVIDER = "extractive"
    kb = build_kb(tenant, slug="short", max_tokens=8)
    key = make_key(kb.tenant)
    status, events = chat(client, key, bot="short", message=Q, stream=True)
    assert status == 200, events
    text = "".join(d["text"] for e, d in events if e == "delta")
    end = events[-1]
    assert end[0] == "end"
    assert end[1]["finish_reason"] == "length"
    assert end[1]["usage"]["completion_tokens"] == count_tokens(text) <= 8
    assert text.startswith("From the documentation")
    message = Message.objects.get(id=events[0][1]["message_id"])
    assert (message.content, message.finish_reason) == (text, "length")

    status, body = chat(client, key, bot="short", message=Q)
    assert status == 200, body
    assert (body["answer"], body["usage"]) == (text, end[1]["usage"])

    res = client.post(
        "/v1/openai/chat/completions",
        {"model": "short", "messages": [{"role": "user", "content": Q}]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert res.status_code == 200, res.content
    choice = res.json()["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == (text, "length")
    assert res.json()["usage"]["completion_tokens"] <= 8


def test_openai_route_request_max_tokens_lowers_the_bots_never_raises_it(
    client, tenant, make_key, settings
):
    settings.CHAT_PROVIDER = "extractive"
    build_kb(tenant, slug="wordy", max_tokens=200)
    key = make_key(tenant)

    def ask(**extra):
        return client.post(
            "/v1/openai/chat/completions",
            {"model": "wordy", "messages": [{"role": "user", "content": Q}], **extra},
            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
        )  # fmt: skip

    for field in ("max_tokens", "max_completion_tokens"):
        res = ask(**{field: 5})
        assert res.status_code == 200, res.content
        assert res.json()["choices"][0]["finish_reason"] == "length"
        assert res.json()["usage"]["completion_tokens"] <= 5
    whole = ask().json()
    assert ask(max_tokens=100_000).json()["usage"] == whole["usage"]  # the bot's 200 still caps
    for bad in (0, -1, "5", 2.5, True):
        res = ask(max_tokens=bad)
        assert res.status_code == 400, (bad, res.content)
        assert res.json()["error"]["type"] == "invalid_request"
