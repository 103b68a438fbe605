"""An OpenAI-compatible provider ending its stream with ``finish_reason: content_filter`` (its
content filter withheld or cut the answer): reported as API.md's ``refused``, not ``stop`` (a
complete answer), on every route, and stored so. The local stub is the upstream (real HTTP)."""

from __future__ import annotations

import pytest

from chatbot_project.testing.openai_stub import Script
from conversations.models import Message
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

Q = "How do I limit anonymous clients per day?"


def test_content_filter_is_refused_in_json_sse_and_storage(client, key, openai_stub):
    openai_stub.script = Script(reply="Use AnonRate", finish_reason="content_filter")
    status, body = chat(client, key, bot="helper", message=Q)
    assert status == 200, body
    assert (body["finish_reason"], body["refused"]) == ("refused", True)
    assert body["answer"] == "Use AnonRate"  # what the provider sent before its filter
    assert body["citations"]  # the model was asked: its sources stay
    stored = Message.objects.get(id=body["message_id"])
    assert (stored.finish_reason, stored.refused, stored.content) == (
        "refused", True, "Use AnonRate",
    )  # fmt: skip

    status, events = chat(client, key, bot="helper", message=Q, stream=True)
    assert status == 200
    name, end = events[-1]
    assert name == "end"
    assert (end["finish_reason"], end["refused"]) == ("refused", True)


def test_content_filter_round_trips_on_the_openai_route(client, key, openai_stub):
    openai_stub.script = Script(reply="Use AnonRate", finish_reason="content_filter")
    res = client.post(
        "/v1/openai/chat/completions",
        {"model": "helper", "messages": [{"role": "user", "content": Q}]},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert res.status_code == 200, res.content
    assert res.json()["choices"][0]["finish_reason"] == "content_filter"


def test_an_ordinary_stop_is_still_stop(client, key, openai_stub):
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")
    status, body = chat(client, key, bot="helper", message=Q)
    assert status == 200, body
    assert (body["finish_reason"], body["refused"]) == ("stop", False)
