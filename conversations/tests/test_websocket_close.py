"""A WebSocket that closes with chats still running or queued: every question sent is stored
(real ASGI application, real PostgreSQL and Redis, a local OpenAI-compatible server)."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from chatbot_project.testing.openai_stub import Script
from conversations.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def test_closing_the_socket_stores_the_streaming_chat_and_the_queued_ones(
    kb, make_key, openai_stub
):
    key = make_key(kb.tenant)
    gate = threading.Event()
    openai_stub.script = Script(reply="This answer is cut short", hold_last=gate)
    questions = ["How do I limit anonymous clients per day?", "And per user?", "And per view?"]

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        for question in questions:
            await comm.send_json_to({"type": "chat", "bot": "helper", "message": question})
        first = [await comm.receive_json_from(timeout=10)]
        while first[-1]["type"] != "delta":
            first.append(await comm.receive_json_from(timeout=10))
        # The first chat streams (its last token held), the other two wait their turn.
        await comm.disconnect(timeout=10)
        return first

    try:
        first = async_to_sync(run)()
    finally:
        gate.set()
    streamed = Message.objects.get(id=first[0]["message_id"])
    assert streamed.finish_reason == "cancelled"
    assert streamed.content.startswith("This")
    for question in questions[1:]:  # dropped before: never prepared, nothing stored
        asked = Message.objects.get(role="user", content=question)
        answer = Message.objects.get(conversation=asked.conversation, role="assistant")
        assert (answer.content, answer.finish_reason) == ("", "cancelled")
    # The queued chats were stored without calling the model.
    assert len(openai_stub.chat_requests()) == 1
