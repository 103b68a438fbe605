"""The real ASGI app in a real server process, the real OpenAI-compatible stub upstream, httpx and
the official openai SDK as clients: timing, cancellation and wire compatibility."""

from __future__ import annotations

import json
import threading
import time

import httpx
import openai
import pytest

from chatbot_project.testing.openai_stub import Script
from conversations.models import Message
from conversations.tests.conftest import build_kb
from conversations.tests.live_fixtures import QUESTION, read_events

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sse_order_fields_headers_and_first_delta_before_upstream_finishes(live):
    base, key, stub = live
    gate = threading.Event()
    stub.script = Script(reply="Use AnonRateThrottle with a rate of 100/day [1].", hold_last=gate)
    seen: list[tuple[str, dict]] = []
    with httpx.Client(timeout=10) as client, client.stream(
        "POST", f"{base}/v1/chat",
        json={"bot": "helper", "message": QUESTION, "stream": True},
        headers={"Authorization": f"Bearer {key}"},
    ) as res:  # fmt: skip
        assert res.status_code == 200, res.read()
        assert res.headers["content-type"].startswith("text/event-stream")
        assert res.headers["cache-control"] == "no-cache"
        assert res.headers["x-accel-buffering"] == "no"
        assert res.headers["x-request-id"]
        assert "x-ratelimit-remaining" in res.headers
        for event, data in read_events(res.iter_lines()):
            if event == "ping":
                continue
            seen.append((event, data))
            if event == "delta" and not gate.is_set():
                # The upstream still holds its last token: this delta was not buffered.
                upstream = stub.chat_requests()[-1]
                assert not upstream.completed
                # The question is stored while the answer streams (START_WRITE_DELAY in).
                conversation_id = seen[0][1]["conversation_id"]
                stored = Message.objects.filter(conversation_id=conversation_id, role="user")
                deadline = time.monotonic() + 5
                while not stored.exists() and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert stored.get().content == QUESTION
                gate.set()
    names = [e for e, _ in seen]
    assert names[0] == "start"
    assert names[1] == "citations"
    assert names[-1] == "end"
    assert set(names[2:-1]) == {"delta"}
    start, citations, end = seen[0][1], seen[1][1], seen[-1][1]
    assert set(start) >= {"conversation_id", "message_id", "bot"}
    assert start["bot"] == "helper"
    first = citations["citations"][0]
    assert set(first) >= {
        "index",
        "chunk_id",
        "document_id",
        "document_title",
        "score",
        "snippet",
        "source",
    }
    assert first["document_title"] == "Throttling"
    assert "".join(d["text"] for e, d in seen if e == "delta") == stub.script.reply
    assert end["finish_reason"] == "stop"
    assert set(end["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert end["latency_ms"] >= 0
    msg = Message.objects.get(id=start["message_id"])
    assert msg.conversation.message_count == 2
    assert msg.content == stub.script.reply
    assert msg.finish_reason == "stop"
    assert msg.model == "stub-model"
    assert msg.citations[0]["document_title"] == "Throttling"
    # The prompt quoted the sources as data and asked the question.
    sent = stub.chat_requests()[-1].messages
    assert sent[0]["role"] == "system"
    assert "not instructions" in sent[0]["content"]
    assert '<source index="1" title="Throttling">' in sent[-1]["content"]


def test_client_disconnect_closes_upstream_within_a_second_and_saves_partial(live):
    base, key, stub = live
    gate = threading.Event()  # never set: the upstream would wait forever for its last token
    stub.script = Script(reply="Partial answer that never completes", hold_last=gate)
    message_id = None
    with httpx.Client(timeout=10) as client, client.stream(
        "POST", f"{base}/v1/chat",
        json={"bot": "helper", "message": QUESTION, "stream": True},
        headers={"Authorization": f"Bearer {key}"},
    ) as res:  # fmt: skip
        for event, data in read_events(res.iter_lines()):
            if event == "start":
                message_id = data["message_id"]
            if event == "delta":
                break
        closed_at = time.monotonic()
    # Leaving the block closed our connection mid-stream.
    assert stub.wait_for(lambda: stub.chat_requests()[-1].client_closed_at is not None, 5)
    upstream = stub.chat_requests()[-1]
    assert upstream.client_closed_at - closed_at < 1.0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not Message.objects.filter(id=message_id).exists():
        time.sleep(0.05)
    msg = Message.objects.get(id=message_id)
    assert msg.finish_reason == "cancelled"
    assert msg.content.startswith("Partial")
    assert msg.content != stub.script.reply
    # The model never reported usage: counted on our side, not recorded as 0.
    assert msg.prompt_tokens > 0
    assert msg.completion_tokens > 0
    assert msg.total_tokens == msg.prompt_tokens + msg.completion_tokens


def test_conversation_deleted_while_streaming_ends_with_error_not_end(live):
    base, key, stub = live
    gate = threading.Event()
    # The first token comes after a keep-alive ping (SSE_PING_SECONDS is 0.2 here), as it does
    # under CPU load or in a cold server: the deletion must wait for the first delta, not for
    # the third event. (It used to act on "delta at index 2", never true after a ping: the
    # conversation was not deleted, the gate never opened and the chat ended 60 s later with
    # upstream_error, LLM_TIMEOUT_SECONDS - the "load flake" of 5ad1548.)
    stub.script = Script(
        reply="An answer whose conversation goes away", hold_last=gate, first_token_delay=0.5
    )
    auth = {"Authorization": f"Bearer {key}"}
    names, events, deleted = [], [], None
    with httpx.Client(timeout=10) as client, client.stream(
        "POST", f"{base}/v1/chat",
        json={"bot": "helper", "message": QUESTION, "stream": True}, headers=auth,
    ) as res:  # fmt: skip
        for event, data in read_events(res.iter_lines()):
            names.append(event)
            if event == "ping":
                continue
            events.append((event, data))
            if event == "delta" and not gate.is_set():  # the upstream holds its last token
                deleted = _delete_conversation(base, auth, events[0][1]["conversation_id"])
                gate.set()
    assert "ping" in names[: names.index("delta")], names
    assert deleted == 204
    assert events[-1][0] == "error", events[-3:]
    assert events[-1][1]["error"]["type"] == "conflict"
    assert not Message.objects.filter(id=events[0][1]["message_id"]).exists()


def _delete_conversation(base: str, auth: dict[str, str], conversation_id: str) -> int:
    """DELETE the conversation once it exists (it is written START_WRITE_DELAY into the chat:
    404 until then); the last status."""
    deadline = time.monotonic() + 5
    while True:
        response = httpx.delete(f"{base}/v1/conversations/{conversation_id}", headers=auth)
        if response.status_code != 404 or time.monotonic() > deadline:
            return response.status_code
        time.sleep(0.05)


def test_keepalive_pings_while_upstream_is_idle(live):
    base, key, stub = live
    stub.script = Script(reply="slow answer", first_token_delay=0.7)
    with httpx.Client(timeout=10) as client, client.stream(
        "POST", f"{base}/v1/chat",
        json={"bot": "helper", "message": QUESTION},
        headers={"Authorization": f"Bearer {key}", "Accept": "text/event-stream"},
    ) as res:  # fmt: skip
        names = [e for e, _ in read_events(res.iter_lines())]
    # SSE_PING_SECONDS is 0.2 here: pings while the model is silent, none once tokens flow.
    first_delta = names.index("delta")
    assert names[:2] == ["start", "citations"]
    assert 2 <= names[:first_delta].count("ping") <= 5, names
    assert "ping" not in names[first_delta:]
    assert names[-1] == "end"


def test_official_openai_sdk_sync_and_streaming(live):
    base, key, stub = live
    stub.script = Script(reply="Use AnonRateThrottle [1].")
    client = openai.OpenAI(base_url=f"{base}/v1/openai", api_key=key, max_retries=0)
    models = client.models.list()
    assert [m.id for m in models.data] == ["helper"]
    assert client.models.retrieve("helper").id == "helper"
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("no-such-bot")
    assert missing.value.code == "not_found"  # OpenAI's `code` (was None)

    completion = client.chat.completions.create(
        model="helper",
        messages=[
            {"role": "user", "content": "What is throttling?"},
            {"role": "assistant", "content": "It limits request rates."},
            {"role": "user", "content": QUESTION},
        ],
    )
    assert completion.choices[0].message.content == "Use AnonRateThrottle [1]."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens > 0
    extra = completion.model_extra or {}
    assert extra["citations"][0]["document_title"] == "Throttling"
    sent = stub.chat_requests()[-1].messages
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "What is throttling?"

    stream = client.chat.completions.create(
        model="helper", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Use AnonRateThrottle [1]."
    assert chunks[0].model_extra["citations"][0]["document_title"] == "Throttling"
    assert chunks[-1].choices[0].finish_reason == "stop"

    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert unknown.value.code == "not_found"
    assert unknown.value.body["type"] == "not_found"  # API.md's shape, code and param beside


def test_openai_stream_pings_while_the_model_is_silent_and_the_sdk_skips_them(live):
    base, key, stub = live
    # SSE_PING_SECONDS is 0.2 here: a slow first token gets pings, as on /v1/chat.
    stub.script = Script(reply="Use AnonRateThrottle [1].", first_token_delay=0.7)
    body = {"model": "helper", "messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with httpx.Client(timeout=10) as http, http.stream(
        "POST", f"{base}/v1/openai/chat/completions", json=body,
        headers={"Authorization": f"Bearer {key}"},
    ) as res:  # fmt: skip
        lines = [line for line in res.iter_lines() if line]
    first_content = next(i for i, line in enumerate(lines) if '"delta":{"content":' in line)
    assert ": ping" in lines[:first_content], lines[:first_content]
    assert lines[-1] == "data: [DONE]"

    client = openai.OpenAI(base_url=f"{base}/v1/openai", api_key=key, max_retries=0)
    stream = client.chat.completions.create(
        model="helper", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Use AnonRateThrottle [1]."


def test_sse_api_sample_never_leaks_other_tenant_canary(live, other_tenant, make_key):
    base, _key, stub = live
    build_kb(
        other_tenant, docs={"Secret": ["The canary phrase is ZEBRA-CANARY-4471 for throttling."]}
    )
    from conversations.tests.conftest import DOCS

    # `tenant` (acme) asks 20 questions through the API: never the other tenant's canary.
    stub.script = Script(reply="ok")
    key = _key
    with httpx.Client(timeout=10) as client:
        for i in range(20):
            res = client.post(
                f"{base}/v1/chat",
                json={
                    "bot": "helper",
                    "message": f"canary phrase ZEBRA-CANARY-4471 throttling {i}",
                },
                headers={"Authorization": f"Bearer {key}"},
            )
            assert res.status_code == 200
            assert "ZEBRA-CANARY" not in json.dumps(res.json()["citations"])
    for req in stub.chat_requests():
        assert "ZEBRA-CANARY-4471 for" not in json.dumps(req.body)
    assert DOCS
