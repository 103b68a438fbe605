"""A question whose answer failed is not history for the next turn. Repro: the widget's Retry
(or any client asking again after an upstream error) sent the model the same question twice,
once as an unanswered history turn and once as the question; a question still being answered
by another chat of the conversation was history too."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from conversations.selectors import history_for
from conversations.tests.factories import ConversationFactory, MessageFactory
from conversations.tests.helpers import chat

pytestmark = pytest.mark.django_db

Q = "How do I limit anonymous clients per day?"


def test_a_retried_question_reaches_the_model_once(client, key, openai_stub):
    openai_stub.script.reply = "First answer."
    _, first = chat(client, key, bot="helper", message="What is throttling?")
    conversation_id = first["conversation_id"]
    openai_stub.script.status = 500
    status, failed = chat(client, key, bot="helper", message=Q, conversation_id=conversation_id)
    assert status == 502, failed
    openai_stub.script.status = 200
    openai_stub.script.reply = "Second answer."
    _, retried = chat(client, key, bot="helper", message=Q, conversation_id=conversation_id)
    assert retried["answer"] == "Second answer."
    sent = openai_stub.chat_requests()[-1].messages
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert [m["content"] for m in sent[1:3]] == ["What is throttling?", "First answer."]
    assert sum(Q in m["content"] for m in sent) == 1
    # Every turn is still stored, the failed one included.
    assert Conversation.objects.get(id=conversation_id).message_count == 6


def test_unanswered_questions_are_left_out_answered_ones_kept(tenant):
    conversation = ConversationFactory(tenant=tenant)

    def say(role, content, **kw):
        MessageFactory(tenant=tenant, conversation=conversation, role=role, content=content, **kw)

    say("user", "one?")
    say("assistant", "One.", finish_reason="stop")
    say("user", "two?")  # its answer failed
    say("assistant", "", finish_reason=Message.FinishReason.ERROR)
    say("user", "three?")
    say("assistant", "Three, partly", finish_reason="cancelled")  # cut short: kept
    say("user", "four?")  # still being answered
    turns = history_for(tenant=tenant, conversation=conversation)
    assert turns == [
        {"role": "user", "content": "one?"},
        {"role": "assistant", "content": "One."},
        {"role": "user", "content": "three?"},
        {"role": "assistant", "content": "Three, partly"},
    ]
