"""A cancel naming a chat (the ``message_id`` of its ``start``) stops that chat only: sent as
its ``end`` crossed it, it no longer stopped the next chat queued on the socket, which was
stored as cancelled, its model never asked (real ASGI application, PostgreSQL, Redis and a
local OpenAI-compatible server)."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from chatbot_project.testing.openai_stub import Script
from conversations.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


async def _until(comm, kinds):
    events = [await comm.receive_json_from(timeout=20)]
    while events[-1]["type"] not in kinds:
        events.append(await comm.receive_json_from(timeout=20))
    return events


def test_a_cancel_naming_an_ended_chat_leaves_the_next_one_alone(kb, make_key, openai_stub):
    key = make_key(kb.tenant)
    first_gate, third_gate = threading.Event(), threading.Event()
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].", hold_last=first_gate)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        for question in ("What is throttling?", "And pagination?"):
            await comm.send_json_to({"type": "chat", "bot": "helper", "message": question})
        first = await _until(comm, ("delta",))
        openai_stub.script = Script(reply="CursorPagination gives a cursor [1].")
        first_gate.set()
        first += await _until(comm, ("end", "error"))
        # The client pressed stop while the first answer's end was on its way.
        await comm.send_json_to({"type": "cancel", "message_id": first[0]["message_id"]})
        second = await _until(comm, ("end", "error"))
        openai_stub.script = Script(reply="TokenAuthentication [1].", hold_last=third_gate)
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": "And tokens?"})
        third = await _until(comm, ("delta",))
        await comm.send_json_to({"type": "cancel", "message_id": "not one of these chats"})
        await comm.send_json_to({"type": "cancel", "message_id": third[0]["message_id"]})
        third += await _until(comm, ("end", "error"))
        await comm.disconnect()
        return first, second, third

    try:
        first, second, third = async_to_sync(run)()
    finally:
        first_gate.set()
        third_gate.set()
    assert first[-1]["finish_reason"] == "stop"
    assert second[-1]["type"] == "end", second[-1]
    assert second[-1]["finish_reason"] == "stop"  # was "cancelled": the stop meant the first
    answer = Message.objects.get(id=second[-1]["message_id"])
    assert (answer.content, answer.finish_reason) == (
        "CursorPagination gives a cursor [1].",
        "stop",
    )
    assert third[-1]["finish_reason"] == "cancelled"  # the named, running chat stops
    assert Message.objects.get(id=third[0]["message_id"]).finish_reason == "cancelled"
