"""``{"type": "ping"}`` is answered ``{"type": "pong"}``, idle or while a chat streams (which
goes on): a browser cannot send WebSocket ping frames, so an application ping is how its page
tells a live socket from a dead one. It was an ``invalid_request`` error event. (Real ASGI
application, PostgreSQL, Redis and a local OpenAI-compatible server.)"""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from chatbot_project.testing.openai_stub import Script

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_application_ping_is_answered_idle_and_mid_answer(kb, make_key, openai_stub):
    key = make_key(kb.tenant)
    gate = threading.Event()
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].", hold_last=gate)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "ping"})
        idle = await comm.receive_json_from(timeout=10)
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": "Throttling?"})
        events = [await comm.receive_json_from(timeout=20)]
        while events[-1]["type"] != "delta":
            events.append(await comm.receive_json_from(timeout=20))
        await comm.send_json_to({"type": "ping"})
        mid = await comm.receive_json_from(timeout=10)
        while mid["type"] == "delta":  # (the answer's deltas up to its held last one)
            events.append(mid)
            mid = await comm.receive_json_from(timeout=10)
        gate.set()
        while events[-1]["type"] not in ("end", "error"):
            events.append(await comm.receive_json_from(timeout=20))
        await comm.disconnect()
        return idle, mid, events

    try:
        idle, mid, events = async_to_sync(run)()
    finally:
        gate.set()
    assert idle == {"type": "pong"}
    assert mid == {"type": "pong"}
    assert events[-1]["finish_reason"] == "stop"
