"""A chat that fails unexpectedly while answering (a bug, a dependency down) ends with an
``error`` event on every HTTP surface, fast lane and Django view alike, instead of a stream cut
without one (SSE, OpenAI-compatible stream) or an unhandled exception (JSON); the turn is stored
as an error. The trigger simulates a bug in our code (``chat_bug``: the chunk decoder raises
RuntimeError) while the chat reads a real upstream's stream. (A malformed upstream chunk is an
``upstream_error``: test_malformed_upstream.py.)"""

from __future__ import annotations

import json

import pytest

from conversations.models import Message
from conversations.tests.helpers import openai_stream_data, parse_sse

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_sse_ends_with_an_internal_error_event(chat_requests, chat_bug, lane):
    res = chat_requests.chat(lane=lane, stream=True)
    assert res.status_code == 200
    events = parse_sse(res.text)
    assert [e[0] for e in events] == ["start", "citations", "error"]
    assert events[-1][1]["error"]["type"] == "internal_error"
    stored = Message.objects.get(id=events[0][1]["message_id"])
    assert (stored.role, stored.finish_reason) == ("assistant", "error")


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_json_is_a_500_error_body_and_the_turn_is_stored(chat_requests, chat_bug, lane):
    res = chat_requests.chat(lane=lane)
    assert res.status_code == 500
    assert res.json()["error"]["type"] == "internal_error"
    stored = Message.objects.filter(role="assistant").get()
    assert stored.finish_reason == "error"


def test_openai_stream_ends_with_an_error_chunk_and_done(chat_requests, chat_bug):
    res = chat_requests.openai(stream=True)
    assert res.status_code == 200
    datas = openai_stream_data(res)
    assert datas[-1] == "[DONE]"
    assert json.loads(datas[-2])["error"]["type"] == "internal_error"
