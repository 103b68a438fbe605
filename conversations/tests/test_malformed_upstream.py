"""An OpenAI-compatible upstream sending a stream chunk that is valid JSON of the wrong shape
(``choices`` not a list, ``delta`` not an object, ``content`` not a string...) fails the chat as
an ``upstream_error`` (502 on JSON), as the provider's other failures do, with the partial answer
and the error stored; it used to raise TypeError in the provider code and end as a 500
``internal_error``. The upstream is real (``misshapen_upstream``: a first piece of the answer,
then the bad chunk); the app is run in-process, fast lane and Django view."""

from __future__ import annotations

import json

import pytest

from conversations.llm import MALFORMED_CHUNK_MESSAGE
from conversations.models import Message
from conversations.tests.conftest import PARTIAL_ANSWER
from conversations.tests.helpers import openai_stream_data, parse_sse

pytestmark = pytest.mark.django_db(transaction=True)

UPSTREAM_ERROR = {"type": "upstream_error", "message": MALFORMED_CHUNK_MESSAGE}


def _stored() -> Message:
    stored = Message.objects.filter(role="assistant").get()
    assert (stored.finish_reason, stored.error) == ("error", "upstream_error")
    assert stored.content == PARTIAL_ANSWER  # the answer so far is kept
    return stored


def _error_naming_the_turn(res) -> dict:
    """A JSON answer's error, its ``details`` checked to name the stored turn."""
    error = dict(res.json()["error"])
    stored = _stored()
    ids = {"conversation_id": str(stored.conversation_id), "message_id": str(stored.id)}
    assert error.pop("details") == ids
    return error


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_sse_ends_with_an_upstream_error_event(chat_requests, misshapen_upstream, lane):
    res = chat_requests.chat(lane=lane, stream=True)
    assert res.status_code == 200
    events = parse_sse(res.text)
    assert [e[0] for e in events if e[0] != "delta"] == ["start", "citations", "error"]
    assert events[-1][1] == {"error": UPSTREAM_ERROR}
    sent = "".join(data["text"] for name, data in events if name == "delta")
    assert PARTIAL_ANSWER.startswith(sent)  # (the redactor may hold the end of a piece back)
    assert str(_stored().id) == events[0][1]["message_id"]


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_json_is_a_502_upstream_error(chat_requests, misshapen_upstream, lane):
    res = chat_requests.chat(lane=lane)
    assert res.status_code == 502
    assert _error_naming_the_turn(res) == UPSTREAM_ERROR


@pytest.mark.parametrize(
    "chunk",
    [
        {"choices": 5},
        {"choices": "abc"},
        {"choices": [5]},
        {"choices": [{"delta": "text"}]},
        {"choices": [{"delta": {"content": 5}}]},
        {"choices": [{"delta": {"content": ["a", "b"]}}]},
        {"choices": [{"delta": {}, "finish_reason": ["stop"]}]},
        {"choices": [], "usage": "many"},
        {"choices": [], "usage": {"prompt_tokens": "12", "completion_tokens": 3}},
        5,  # top-level JSON that is not an object
        [],
        "text",
        None,
    ],
)
def test_every_misshapen_chunk_is_an_upstream_error(chat_requests, misshapen_upstream, chunk):
    misshapen_upstream.chunks[1] = json.dumps(chunk).encode()
    res = chat_requests.chat()
    assert (res.status_code, _error_naming_the_turn(res)) == (502, UPSTREAM_ERROR)


@pytest.mark.parametrize("payload", [b"5", b"[]", b'"text"', b"null", b"[{}]"])
def test_a_non_object_chunk_is_not_skipped(chat_requests, misshapen_upstream, payload):
    """Followed by a proper end of answer, a chunk that is not a JSON object was skipped and the
    chat answered as complete (200, ``stop``), whatever the provider had meant by it."""
    done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    misshapen_upstream.chunks[1:] = [payload, json.dumps(done).encode()]
    res = chat_requests.chat()
    assert (res.status_code, _error_naming_the_turn(res)) == (502, UPSTREAM_ERROR)


def test_a_well_formed_stream_through_the_same_upstream_still_answers(
    chat_requests, misshapen_upstream
):
    done = {"choices": [{"index": 0, "delta": {"content": None}, "finish_reason": "stop"}]}
    usage = {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": None}}
    misshapen_upstream.chunks[1:] = [json.dumps(done).encode(), json.dumps(usage).encode()]
    res = chat_requests.chat()
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["answer"], body["finish_reason"]) == (PARTIAL_ANSWER, "stop")
    assert body["usage"] == {"prompt_tokens": 12, "completion_tokens": 0, "total_tokens": 12}


def test_a_non_streamed_completion_body_is_an_upstream_error(chat_requests, misshapen_upstream):
    """An upstream ignoring ``stream`` and answering one JSON completion (here malformed too):
    no ``data:`` lines, so the stream ended before the answer (already upstream_error)."""
    misshapen_upstream.json_body = b'{"choices": 5}'
    res = chat_requests.chat()
    assert res.status_code == 502
    assert res.json()["error"]["type"] == "upstream_error"
    stored = Message.objects.filter(role="assistant").get()
    assert (stored.finish_reason, stored.error, stored.content) == ("error", "upstream_error", "")


def test_openai_stream_ends_with_an_upstream_error_chunk_and_done(
    chat_requests, misshapen_upstream
):
    res = chat_requests.openai(stream=True)
    assert res.status_code == 200
    datas = openai_stream_data(res)
    assert datas[-1] == "[DONE]"
    assert json.loads(datas[-2])["error"] == {**UPSTREAM_ERROR, "code": "upstream_error"}
    _stored()


def test_openai_json_is_a_502_upstream_error(chat_requests, misshapen_upstream):
    res = chat_requests.openai()
    assert res.status_code == 502
    assert res.json()["error"]["type"] == "upstream_error"
    assert res.json()["error"]["message"] == MALFORMED_CHUNK_MESSAGE
    _stored()
