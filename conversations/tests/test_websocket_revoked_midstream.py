"""A key revoked while its socket's chat streams: the chat's ``error`` event says so, then the
socket closes (4401) without a second, chat-less ``error`` event (it sent one from the socket's
revocation watcher too, read by a client as the failure of a chat it had not sent). The answer
so far is stored. (Real ASGI application, PostgreSQL, Redis, a local OpenAI-compatible server.)"""

from __future__ import annotations

import json
import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from chatbot_project.testing.openai_stub import Script
from conversations.models import Message
from conversations.tests.test_websocket_idle_revoke import _revoke_all

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_key_revoked_mid_answer_gets_one_error_event_then_the_close(
    kb, make_key, openai_stub, settings
):
    settings.CHAT_REVALIDATE_SECONDS = 0.2
    key = make_key(kb.tenant)
    gate = threading.Event()
    openai_stub.script = Script(reply="Use AnonRateThrottle with a rate [1].", hold_last=gate)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": "Throttling?"})
        events = [await comm.receive_json_from(timeout=20)]
        while events[-1]["type"] != "delta":
            events.append(await comm.receive_json_from(timeout=20))
        await sync_to_async(_revoke_all)(kb.tenant)
        outputs = []
        while not outputs or outputs[-1]["type"] != "websocket.close":
            outputs.append(await comm.receive_output(timeout=10))
        return events, outputs

    try:
        events, outputs = async_to_sync(run)()
    finally:
        gate.set()
    sent = [json.loads(o["text"]) for o in outputs if o["type"] == "websocket.send"]
    errors = [e for e in sent if e["type"] == "error"]
    assert [e["error"]["type"] for e in errors] == ["authentication_failed"], sent
    assert outputs[-1] == {
        "type": "websocket.close", "code": 4401, "reason": "authentication_failed"
    }  # fmt: skip
    answer = Message.objects.get(id=events[0]["message_id"])
    assert answer.finish_reason == "error"
    assert answer.content.startswith("Use")
