"""Feedback on a message whose conversation is being deleted: the save matched no row (Django's
"Save with update_fields did not affect any rows") and POST /v1/messages/{id}/feedback answered
500; it is the 404 of a message that is gone."""

from __future__ import annotations

import pytest

from bots.tests.factories import BotFactory
from bots.tests.test_dataset_link_race import _run
from chatbot_project.errors import NotFound
from conversations.models import Message
from conversations.services import conversation_delete, message_feedback
from conversations.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_feedback_on_a_message_being_deleted_is_a_404(tenant):
    conversation = ConversationFactory(bot=BotFactory(tenant=tenant))
    message = MessageFactory(conversation=conversation, role=Message.Role.ASSISTANT)
    as_read = Message.objects.get(pk=message.pk)  # as the feedback request read it

    outcome = _run(
        lambda: conversation_delete(tenant=tenant, conversation=conversation),
        lambda: message_feedback(tenant=tenant, message=as_read, rating="up"),
    )

    assert outcome["first"] == "ok"
    assert isinstance(outcome["second"], NotFound), repr(outcome["second"])  # was DatabaseError
    assert not Message.objects.filter(pk=message.pk).exists()
