"""/v1/openai/chat/completions: request fields an OpenAI client may send get a 400 naming them
when the bot cannot take them as they are, never a 500 or a turn that cannot be stored."""

from __future__ import annotations

import pytest

from conversations.models import Conversation
from conversations.tests.conftest import build_kb

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"


def post(client, key, body):
    return client.post(
        "/v1/openai/chat/completions", body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"user": "u" * 201}, "`user` must be a string of at most 200 characters"),
        ({"user": 42}, "`user` must be a string"),
        ({"user": []}, "`user` must be a string"),  # falsy: was taken as no user
        ({"user": 0}, "`user` must be a string"),
    ],
)
def test_user_too_long_or_not_a_string_is_a_400(client, kb, make_key, openai_stub, extra, words):
    res = post(client, make_key(kb.tenant), {
        "model": "helper", "messages": [{"role": "user", "content": Q}], **extra,
    })  # fmt: skip
    assert res.status_code == 400
    assert res.json()["error"]["type"] == "invalid_request"
    assert words in res.json()["error"]["message"]
    assert openai_stub.chat_requests() == []
    assert not Conversation.objects.exists()


def test_user_of_200_characters_is_stored(client, kb, make_key, openai_stub):
    res = post(client, make_key(kb.tenant), {
        "model": "helper", "messages": [{"role": "user", "content": Q}], "user": "u" * 200,
    })  # fmt: skip
    assert res.status_code == 200
    assert Conversation.objects.get(id=res.json()["conversation_id"]).user == "u" * 200


@pytest.mark.parametrize(
    "content",
    [
        [{"type": "text", "text": 5}],
        [{"type": "text"}],
        ["plain string part"],
        {"text": Q},
        7,
    ],
)
def test_malformed_content_is_a_400(client, kb, make_key, openai_stub, content):
    res = post(client, make_key(kb.tenant), {
        "model": "helper", "messages": [{"role": "user", "content": content}],
    })  # fmt: skip
    assert res.status_code == 400
    assert res.json()["error"]["type"] == "invalid_request"
    assert "content" in res.json()["error"]["message"]
    assert openai_stub.chat_requests() == []


def test_text_parts_are_joined_and_other_parts_skipped(client, kb, make_key, openai_stub):
    openai_stub.script.reply = "Use AnonRateThrottle [1]."
    parts = [
        {"type": "text", "text": "How do I limit "},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "text", "text": "anonymous clients per day?"},
    ]
    res = post(client, make_key(kb.tenant), {
        "model": "helper", "messages": [{"role": "user", "content": parts}],
    })  # fmt: skip
    assert res.status_code == 200
    sent = openai_stub.chat_requests()[-1].messages[-1]["content"]
    assert Q in sent


def test_a_question_sent_without_a_text_part_says_so(client, kb, make_key, openai_stub):
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    res = post(client, make_key(kb.tenant), {
        "model": "helper", "messages": [{"role": "user", "content": [image]}],
    })  # fmt: skip
    assert res.status_code == 400
    message = res.json()["error"]["message"]
    assert "has no text: a bot reads `text` content parts only" in message  # was "non-empty"
    assert openai_stub.chat_requests() == []


def test_other_tenants_model_is_a_404(client, kb, make_key, other_tenant, openai_stub):
    build_kb(other_tenant, slug="theirs")
    res = post(client, make_key(kb.tenant), {
        "model": "theirs", "messages": [{"role": "user", "content": [{"type": "text", "text": Q}]}],
    })  # fmt: skip
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"
    assert openai_stub.chat_requests() == []


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"n": 2}, "`n` must be 1"),
        ({"n": True}, "`n` must be 1"),
        ({"tool_choice": "required"}, "`tool_choice` can only be"),
        ({"tool_choice": {"type": "function", "function": {"name": "f"}}}, "`tool_choice`"),
        ({"response_format": {"type": "json_object"}}, "`response_format` can only be"),
        ({"response_format": {"type": "json_schema", "json_schema": {}}}, "`response_format`"),
        ({"stream": "true"}, "`stream` must be true or false"),
        ({"max_completion_tokens": 0, "max_tokens": 5}, "`max_completion_tokens` must be"),
        ({"logprobs": True}, "`logprobs` and `top_logprobs` are not available"),
        ({"top_logprobs": 3}, "`logprobs` and `top_logprobs`"),
        ({"modalities": ["text", "audio"]}, "`modalities` can only be"),
        ({"modalities": "audio"}, "`modalities`"),
    ],
)
def test_requests_a_bot_cannot_honour_are_a_400(client, kb, make_key, openai_stub, extra, words):
    res = post(client, make_key(kb.tenant), {
        "model": "helper", "messages": [{"role": "user", "content": Q}], **extra,
    })  # fmt: skip
    assert res.status_code == 400, res.content
    assert res.json()["error"]["type"] == "invalid_request"
    assert words in res.json()["error"]["message"]
    assert openai_stub.chat_requests() == []


def test_what_a_bot_can_honour_or_ignore_is_answered(client, kb, make_key, openai_stub):
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    res = post(client, make_key(kb.tenant), {
        "model": "helper", "messages": [{"role": "user", "content": Q}], "n": 1,
        "tools": tools, "tool_choice": "auto", "response_format": {"type": "text"},
        "temperature": 0.5, "top_p": 1, "stop": ["\n"], "seed": 7, "stream": False,
        "max_completion_tokens": None, "max_tokens": 7, "logprobs": False, "top_logprobs": None,
        "modalities": ["text"],
    })  # fmt: skip
    assert res.status_code == 200, res.content
    assert len(res.json()["choices"]) == 1
    assert openai_stub.chat_requests()[-1].body["max_tokens"] == 7


@pytest.mark.parametrize(
    ("body", "words"),
    [
        # The trailing string was skipped, so an earlier question was answered instead.
        ({"messages": [{"role": "user", "content": Q}, "And per user?"]}, "`messages[1]`"),
        ({"messages": [None, {"role": "user", "content": Q}]}, "`messages[0]`"),
        # A typo in the role: the message was skipped, the earlier question answered.
        (
            {
                "messages": [
                    {"role": "user", "content": "What is pagination?"},
                    {"role": "User", "content": Q},
                ]
            },
            "`messages[1].role` must be one of",
        ),
        (
            {"messages": [{"role": "user", "content": "What is pagination?"}, {"content": Q}]},
            "`messages[1].role`",
        ),
        ({"messages": [{"role": ["user"], "content": Q}]}, "`messages[0].role`"),
        # Dropped, the chat ran without the scope (and its guardrails) the client named.
        ({"messages": [{"role": "user", "content": Q}], "scope": ["strict"]}, "`scope`"),
        ({"messages": [{"role": "user", "content": Q}], "scope": 5}, "`scope`"),
    ],
)
def test_malformed_messages_or_scope_are_a_400_not_skipped(
    client, kb, make_key, openai_stub, body, words
):
    res = post(client, make_key(kb.tenant), {"model": "helper", **body})
    assert res.status_code == 400, res.content
    assert res.json()["error"]["type"] == "invalid_request"
    assert words in res.json()["error"]["message"]
    assert openai_stub.chat_requests() == []
    assert not Conversation.objects.exists()


def test_every_openai_role_is_taken_and_only_user_and_assistant_turns_are_history(
    client, kb, make_key, openai_stub
):
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    res = post(client, make_key(kb.tenant), {"model": "helper", "messages": [
        {"role": "system", "content": "Answer briefly."},
        {"role": "developer", "content": "Be kind."},
        {"role": "user", "content": "What is pagination?"},
        {"role": "assistant", "content": "Pages of results.", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "function", "name": "f", "content": "42"},
        {"role": "user", "content": Q},
    ]})  # fmt: skip
    assert res.status_code == 200, res.content
    sent = [(m["role"], m["content"]) for m in openai_stub.chat_requests()[-1].messages]
    assert sent[1:3] == [("user", "What is pagination?"), ("assistant", "Pages of results.")]
    assert sent[-1][0] == "user"
    assert Q in sent[-1][1]
    assert len(sent) == 4  # the bot's system prompt, the two turns, the question


def test_a_question_over_the_chat_limit_without_a_scope_names_no_scope(
    client, kb, make_key, openai_stub
):
    res = post(client, make_key(kb.tenant), {
        "model": "helper", "messages": [{"role": "user", "content": "x" * 100_001}],
    })  # fmt: skip
    assert res.status_code == 400, res.content
    message = res.json()["error"]["message"]
    assert "a chat accepts at most 100000" in message
    assert "scope" not in message  # (it said "this scope" of a chat that ran under none)
    assert openai_stub.chat_requests() == []
