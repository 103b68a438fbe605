"""A JSON chat that fails once it has started (upstream error, key revoked mid-answer, a bug)
still stored its turn; the error body's ``details`` name it (``conversation_id``,
``message_id``), as SSE's ``start`` event does, so a client can ask again in that conversation
rather than leave its first question in one it cannot name."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from conversations.tests.live_fixtures import QUESTION
from conversations.tests.test_fastlane import _django, _post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_a_failed_first_answer_names_its_stored_conversation(kb, make_key, openai_stub, lane):
    key = make_key(kb.tenant, ("chat",))
    app = _django() if lane == "django" else None
    openai_stub.script.status = 500
    res = _post(key, {"bot": "helper", "message": QUESTION}, app=app, path="/v1/chat")
    assert res.status_code == 502, res.text
    error = res.json()["error"]
    assert error["type"] == "upstream_error"
    conversation = Conversation.objects.get()
    assert error["details"] == {
        "conversation_id": str(conversation.id),
        "message_id": str(Message.objects.get(role="assistant").id),
    }
    openai_stub.script.status = 200
    again = {"bot": "helper", "message": QUESTION, "conversation_id": str(conversation.id)}
    res = _post(key, again, app=app, path="/v1/chat")
    assert res.status_code == 200, res.text
    assert res.json()["conversation_id"] == str(conversation.id)
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_an_answer_that_could_not_be_stored_names_no_turn(kb, make_key, monkeypatch, lane):
    """The answer's save failed (the conversation deleted meanwhile: 409; the database: 500,
    ``chat_writes.unsaved_error``): the details named a message that is not there."""
    from conversations import services

    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "message_save_assistant", fail)
    key = make_key(kb.tenant, ("chat",))
    app = _django() if lane == "django" else None
    res = _post(key, {"bot": "helper", "message": QUESTION}, app=app, path="/v1/chat")
    assert res.status_code == 500, res.text
    error = res.json()["error"]
    assert (error["type"], error["message"]) == (
        "internal_error",
        "The answer could not be stored; the error has been logged.",
    )
    assert not Message.objects.filter(role="assistant").exists()
    assert "details" not in error, error  # named a message_id that is not there
