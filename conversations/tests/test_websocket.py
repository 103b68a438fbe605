"""WebSocket /ws/chat/ through the real ASGI application (Channels' WebsocketCommunicator)."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from chatbot_project.testing.openai_stub import Script
from conversations.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

Q = "How do I limit anonymous clients per day?"


async def _collect(comm, until=("end", "error"), timeout=10):
    events = []
    while True:
        msg = await comm.receive_json_from(timeout=timeout)
        events.append(msg)
        if msg["type"] in until:
            return events


def test_chat_over_websocket_with_query_key_two_chats_in_a_row(kb, make_key, openai_stub):
    key = make_key(kb.tenant)
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        connected, _ = await comm.connect()
        assert connected
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        first = await _collect(comm)
        await comm.send_json_to(
            {"type": "chat", "bot": "helper", "message": "And per user?",
             "conversation_id": first[0]["conversation_id"]}
        )  # fmt: skip
        second = await _collect(comm)
        await comm.disconnect()
        return first, second

    first, second = async_to_sync(run)()
    kinds = [e["type"] for e in first]
    assert kinds[:2] == ["start", "citations"]
    assert kinds[-1] == "end"
    assert first[1]["citations"][0]["document_title"] == "Throttling"
    assert "".join(e["text"] for e in first if e["type"] == "delta") == "Use AnonRateThrottle [1]."
    assert first[-1]["finish_reason"] == "stop"
    assert second[0].get("conversation_id") == first[0]["conversation_id"], second
    sent = openai_stub.chat_requests()[-1].messages
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]


def test_bearer_subprotocol_is_accepted_and_cancel_stops_the_chat(kb, make_key, openai_stub):
    key = make_key(kb.tenant)
    gate = threading.Event()
    openai_stub.script = Script(reply="This answer is cut short", hold_last=gate)

    async def run():
        comm = WebsocketCommunicator(application, "/ws/chat/", subprotocols=[f"bearer.{key}"])
        connected, subprotocol = await comm.connect()
        assert connected
        assert subprotocol == f"bearer.{key}"
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        events = await _collect(comm, until=("delta",))
        await comm.send_json_to({"type": "cancel"})
        events += await _collect(comm)
        # The socket still works for the next chat.
        gate.set()
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        after = await _collect(comm)
        await comm.disconnect()
        return events, after

    events, after = async_to_sync(run)()
    assert events[-1]["type"] == "end"
    assert events[-1]["finish_reason"] == "cancelled"
    msg = Message.objects.get(id=events[0]["message_id"])
    assert msg.finish_reason == "cancelled"
    assert msg.content.startswith("This")
    assert after[-1]["finish_reason"] == "stop"
    first_upstream = openai_stub.chat_requests()[0]
    assert openai_stub.wait_for(lambda: first_upstream.client_closed_at is not None, 3)


def test_bad_or_missing_key_is_rejected_and_errors_are_events(
    kb, make_key, other_tenant, openai_stub
):
    reader = make_key(kb.tenant, permissions=("read",))
    other_key = make_key(other_tenant)

    async def run():
        out = {}
        for name, path in [
            ("none", "/ws/chat/"),
            ("bad", "/ws/chat/?key=cb_nope"),
            ("reader", f"/ws/chat/?key={reader}"),
        ]:
            comm = WebsocketCommunicator(application, path)
            assert (await comm.connect())[0]  # accepted to be told why (test_websocket_refusals)
            event = await comm.receive_json_from(timeout=10)
            closed = await comm.receive_output(timeout=10)
            out[name] = (event["error"]["type"], closed["code"])
            await comm.disconnect()
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={other_key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        out["cross_tenant"] = await comm.receive_json_from(timeout=10)
        await comm.send_json_to({"type": "hello"})
        out["unknown"] = await comm.receive_json_from(timeout=10)
        await comm.disconnect()
        return out

    out = async_to_sync(run)()
    assert out["none"] == ("authentication_failed", 4401)
    assert out["bad"] == ("authentication_failed", 4401)
    assert out["reader"] == ("permission_denied", 4403)
    assert out["cross_tenant"] == {
        "type": "error",
        "error": {"type": "not_found", "message": out["cross_tenant"]["error"]["message"]},
    }
    assert out["unknown"]["error"]["type"] == "invalid_request"
    assert openai_stub.chat_requests() == []


def test_revoked_key_ends_the_socket_at_the_next_chat(kb, make_key, openai_stub):
    from apikeys.models import APIKey
    from apikeys.services import api_key_revoke

    key = make_key(kb.tenant)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        first = await _collect(comm)
        await sync_to_async(_revoke_all)()
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        second = await comm.receive_json_from(timeout=10)
        closed = await comm.receive_output(timeout=10)
        return first, second, closed

    def _revoke_all():
        for row in APIKey.objects.filter(tenant=kb.tenant):
            api_key_revoke(tenant=kb.tenant, key=row)

    from asgiref.sync import sync_to_async

    first, second, closed = async_to_sync(run)()
    assert first[-1]["type"] == "end"
    assert second["error"]["type"] == "authentication_failed"
    assert closed["type"] == "websocket.close"
    assert len(openai_stub.chat_requests()) == 1
