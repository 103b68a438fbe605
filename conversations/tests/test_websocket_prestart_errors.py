"""WebSocket /ws/chat/: an ``error`` event for a chat that never started (400, 404, 409, 429, a
key no longer valid) names the conversation its frame was for in ``details.conversation_id``,
echoed as sent, and carries the error's own ``details`` as the HTTP routes do. A chat frame has
no id of its own, so this is how a client running several conversations on one socket tells
which chat failed (real ASGI application, Redis and the stub upstream)."""

from __future__ import annotations

import threading
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from chatbot_project.testing.openai_stub import Script
from conversations.tests.test_websocket import Q, _collect

pytestmark = pytest.mark.django_db(transaction=True)


def _chat(**fields) -> dict:
    return {"type": "chat", "bot": "helper", "message": Q, **fields}


async def _first_conversation(comm) -> str:
    """A chat run to its end on ``comm``; its conversation's id, upper-cased (echoed as sent)."""
    await comm.send_json_to(_chat())
    events = await _collect(comm)
    assert events[-1]["type"] == "end", events
    return events[0]["conversation_id"].upper()


def test_invalid_and_unknown_conversation_errors_echo_the_conversation_id(
    kb, make_key, openai_stub
):
    key = make_key(kb.tenant)
    unknown = str(uuid.uuid4())

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        conversation = await _first_conversation(comm)
        errors = []
        for frame in (
            _chat(conversation_id=conversation, message="  "),  # 400: no question
            _chat(conversation_id=conversation, history=[]),  # 400: not a field, with details
            _chat(conversation_id=unknown),  # 404
            _chat(message="  "),  # a new conversation's chat: nothing to name
            _chat(conversation_id="nope"),  # not an id: not echoed
        ):
            await comm.send_json_to(frame)
            errors.append((await comm.receive_json_from(timeout=10))["error"])
        await comm.send_json_to(_chat(conversation_id=conversation))  # the socket goes on
        after = await _collect(comm)
        await comm.disconnect()
        return conversation, errors, after

    conversation, errors, after = async_to_sync(run)()
    blank, unknown_field, not_found, new, not_an_id = errors
    assert (blank["type"], blank["details"]) == (
        "invalid_request",
        {"conversation_id": conversation},
    )
    assert unknown_field["type"] == "invalid_request"
    assert unknown_field["details"]["conversation_id"] == conversation
    assert unknown_field["details"]["unknown_fields"] == ["history"]  # (as POST /v1/chat says)
    assert (not_found["type"], not_found["details"]) == ("not_found", {"conversation_id": unknown})
    assert new["type"] == "invalid_request"
    assert "details" not in new
    assert "conversation_id" not in not_an_id.get("details", {})
    assert after[-1]["finish_reason"] == "stop"


def test_a_busy_conversation_409_echoes_the_conversation_id(kb, make_key, openai_stub):
    key = make_key(kb.tenant)
    gate = threading.Event()

    async def run():
        first = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        second = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await first.connect())[0]
        assert (await second.connect())[0]
        conversation = await _first_conversation(first)
        openai_stub.script = Script(reply="Use AnonRateThrottle [1].", hold_last=gate)
        await first.send_json_to(_chat(conversation_id=conversation))
        await _collect(first, until=("delta",))  # answering: the conversation is locked
        await second.send_json_to(_chat(conversation_id=conversation, message="And per user?"))
        refused = await _collect(second)
        gate.set()
        rest = await _collect(first)
        await first.disconnect()
        await second.disconnect()
        return conversation, refused, rest

    try:
        conversation, refused, rest = async_to_sync(run)()
    finally:
        gate.set()
    assert [e["type"] for e in refused] == ["error"]
    assert refused[0]["error"]["type"] == "conflict"
    # HTTP's Retry-After, as a number (the socket has no headers)
    assert refused[0]["error"]["details"] == {"conversation_id": conversation, "retry_after": 1}
    assert rest[-1]["finish_reason"] == "stop"


def test_a_rate_limited_chat_429_echoes_the_conversation_id(kb, make_key, openai_stub):
    key = make_key(kb.tenant, rate_limit="1/m")

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        conversation = await _first_conversation(comm)  # the minute's one chat
        await comm.send_json_to(_chat(conversation_id=conversation))
        refused = await _collect(comm)
        await comm.disconnect()
        return conversation, refused

    conversation, refused = async_to_sync(run)()
    assert [e["type"] for e in refused] == ["error"]
    assert refused[0]["error"]["type"] == "rate_limited"
    details = refused[0]["error"]["details"]
    assert details["conversation_id"] == conversation
    assert 1 <= details["retry_after"] <= 60  # was missing: HTTP has Retry-After
    assert len(openai_stub.chat_requests()) == 1


def test_a_key_revoked_meanwhile_echoes_the_conversation_id(kb, make_key, openai_stub):
    from apikeys.models import APIKey
    from apikeys.services import api_key_revoke

    key = make_key(kb.tenant)

    def revoke_all():
        for row in APIKey.objects.filter(tenant=kb.tenant):
            api_key_revoke(tenant=kb.tenant, key=row)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        conversation = await _first_conversation(comm)
        await sync_to_async(revoke_all)()
        await comm.send_json_to(_chat(conversation_id=conversation))
        refused = await comm.receive_json_from(timeout=10)
        closed = await comm.receive_output(timeout=10)
        return conversation, refused, closed

    conversation, refused, closed = async_to_sync(run)()
    assert refused["error"]["type"] == "authentication_failed"
    assert refused["error"]["details"] == {"conversation_id": conversation}
    assert closed["type"] == "websocket.close"


def test_a_failure_before_the_chat_starts_echoes_the_conversation_id(
    kb, make_key, openai_stub, monkeypatch
):
    """Not an APIError (a bug, a dependency down) while the chat is started: the
    ``internal_error`` event names the conversation too; the socket goes on."""
    from conversations import consumers

    key = make_key(kb.tenant)
    real = consumers.start_chat
    calls = []

    async def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated bug while starting the chat")
        return await real(*args, **kwargs)

    monkeypatch.setattr(consumers, "start_chat", failing_once)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        conversation = await _first_conversation(comm)
        await comm.send_json_to(_chat(conversation_id=conversation))
        failed = await _collect(comm)
        await comm.send_json_to(_chat(conversation_id=conversation))
        after = await _collect(comm)
        await comm.disconnect()
        return conversation, failed, after

    conversation, failed, after = async_to_sync(run)()
    assert [e["type"] for e in failed] == ["error"]
    assert failed[0]["error"]["type"] == "internal_error"
    assert failed[0]["error"]["details"] == {"conversation_id": conversation}
    assert after[-1]["finish_reason"] == "stop"


def test_a_malformed_chat_frame_counts_against_the_rate_limit(kb, make_key, openai_stub):
    """As a bad POST /v1/chat counts once its key is known: a socket could send any number
    of malformed chat frames (each a database check of the key) without a count."""
    key = make_key(kb.tenant, rate_limit="2/m")

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        errors = []
        for frame in (_chat(message="  "), _chat(message="  "), _chat()):
            await comm.send_json_to(frame)
            errors.append((await comm.receive_json_from(timeout=10))["error"]["type"])
        await comm.disconnect()
        return errors

    assert async_to_sync(run)() == ["invalid_request", "invalid_request", "rate_limited"]
    assert openai_stub.chat_requests() == []
