"""WebSocket /ws/chat/ edge cases: an idle socket, frames that are not JSON, a cancel that
arrives before the answer streams (real ASGI application, real Redis channel layer)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from chatbot_project.testing.openai_stub import Script
from conversations.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

Q = "How do I limit anonymous clients per day?"
# Longer than channels_redis's blocking read (BZPOPMIN, 5 s), which the consumer's channel
# layer runs in a loop from the moment it connects.
IDLE_SECONDS = 7


async def _collect(comm, until=("end", "error"), timeout=10):
    events = []
    while True:
        msg = await comm.receive_json_from(timeout=timeout)
        events.append(msg)
        if msg["type"] in until:
            return events


def test_socket_stays_usable_after_an_idle_spell_longer_than_the_channel_layer_read(
    kb, make_key, openai_stub
):
    key = make_key(kb.tenant)
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        first = await _collect(comm)
        await asyncio.sleep(IDLE_SECONDS)
        assert await comm.receive_nothing(timeout=0.1)  # (raises if the consumer crashed)
        await comm.send_json_to(
            {"type": "chat", "bot": "helper", "message": "And per user?",
             "conversation_id": first[0]["conversation_id"]}
        )  # fmt: skip
        second = await _collect(comm)
        await comm.disconnect()
        return first, second

    first, second = async_to_sync(run)()
    assert first[-1]["finish_reason"] == "stop"
    assert second[0]["conversation_id"] == first[0]["conversation_id"]
    assert second[-1]["type"] == "end"
    assert second[-1]["finish_reason"] == "stop"


def test_frames_that_are_not_json_are_error_events_and_the_socket_stays_open(
    kb, make_key, openai_stub
):
    key = make_key(kb.tenant)
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")

    strict = []

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_to(text_data="{bad json")
        bad_text = await comm.receive_json_from(timeout=10)
        await comm.send_to(bytes_data=b'{"type": "chat"}')
        binary = await comm.receive_json_from(timeout=10)
        for frame in (
            "[" * 5000 + "]" * 5000,
            '{"type": "chat", "bot": NaN}',
            '{"type": "chat", "bot": "helper", "message": "a\\u0000"}',
        ):
            await comm.send_to(text_data=frame)
            strict.append(await comm.receive_json_from(timeout=10))
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        after = await _collect(comm)
        await comm.disconnect()
        return bad_text, binary, after

    bad_text, binary, after = async_to_sync(run)()
    for event in (bad_text, binary):
        assert event == {
            "type": "error",
            "error": {"type": "invalid_request", "message": event["error"]["message"]},
        }
    assert "not valid JSON" in bad_text["error"]["message"]
    assert "text frame" in binary["error"]["message"]
    assert "nested deeper" in strict[0]["error"]["message"]  # was a RecursionError: dropped
    assert "NaN" in strict[1]["error"]["message"]
    assert "`message` contains the NUL" in strict[2]["error"]["message"]
    assert after[-1]["finish_reason"] == "stop"


def test_cancel_sent_right_after_the_chat_ends_it_as_cancelled_and_saves_the_turn(
    kb, make_key, openai_stub
):
    key = make_key(kb.tenant)
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].")

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        # Both frames are queued before the consumer reads either: the cancel is handled while
        # the chat is still being prepared (key check, rate limit, retrieval), before any answer.
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        await comm.send_json_to({"type": "cancel"})
        events = await _collect(comm)
        # The socket still works, and the conversation the cancelled turn created continues.
        await comm.send_json_to(
            {"type": "chat", "bot": "helper", "message": "And per user?",
             "conversation_id": events[0]["conversation_id"]}
        )  # fmt: skip
        after = await _collect(comm)
        await comm.disconnect()
        return events, after

    events, after = async_to_sync(run)()
    assert [e["type"] for e in events] == ["start", "end"]
    end = events[-1]
    assert end["finish_reason"] == "cancelled"
    assert end["message_id"] == events[0]["message_id"]
    answer = Message.objects.get(id=end["message_id"])
    assert str(answer.conversation_id) == events[0]["conversation_id"]
    assert (answer.role, answer.content, answer.finish_reason) == ("assistant", "", "cancelled")
    question = Message.objects.filter(conversation_id=answer.conversation_id, role="user").first()
    assert question.content == Q
    assert after[0]["conversation_id"] == events[0]["conversation_id"]
    assert after[-1]["finish_reason"] == "stop"
    # Cancelled before its answer started, the first chat never reached the model.
    assert len(openai_stub.chat_requests()) == 1


def test_two_sockets_cannot_answer_in_one_conversation_at_once(kb, make_key, openai_stub):
    """One answer at a time per conversation, across sockets (and HTTP): the second chat gets
    an `error` event (conflict) and the socket stays usable."""
    import threading

    key = make_key(kb.tenant)
    gate = threading.Event()
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].", hold_last=gate)

    async def run():
        first = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        second = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await first.connect())[0]
        assert (await second.connect())[0]
        await first.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        head = await _collect(first, until=("delta",))
        conversation = head[0]["conversation_id"]
        body = {"type": "chat", "bot": "helper", "message": "And per user?",
                "conversation_id": conversation}  # fmt: skip
        await second.send_json_to(body)
        refused = await _collect(second)
        gate.set()
        rest = await _collect(first)
        openai_stub.script = Script(reply="Per user: UserRateThrottle.")
        await second.send_json_to(body)
        after = await _collect(second)
        await first.disconnect()
        await second.disconnect()
        return refused, rest, after

    refused, rest, after = async_to_sync(run)()
    assert [e["type"] for e in refused] == ["error"]
    assert refused[0]["error"]["type"] == "conflict"
    assert rest[-1]["type"] == "end"
    assert after[-1]["type"] == "end"
    assert after[-1]["finish_reason"] == "stop"


def test_chats_beyond_the_socket_cap_get_an_error_event_and_the_others_go_on(
    kb, make_key, openai_stub, settings
):
    """WS_MAX_CHATS_PER_SOCKET: one socket could queue any number of chats (only the rate
    limit stopped it); one beyond the cap is refused at once, the ones ahead of it answer."""
    import threading

    settings.WS_MAX_CHATS_PER_SOCKET = 2
    key = make_key(kb.tenant)
    gate = threading.Event()
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].", hold_last=gate)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        for _ in range(3):  # the first answers (held), the second waits its turn
            await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        head = await _collect(comm, until=("error",))
        gate.set()
        rest = await _collect(comm)  # the first chat's end
        rest += await _collect(comm)  # the second's
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        after = await _collect(comm)  # room again
        await comm.disconnect()
        return head, rest, after

    head, rest, after = async_to_sync(run)()
    refused = head[-1]
    assert refused["error"]["type"] == "rate_limited"
    assert "already has 2 chats running or queued" in refused["error"]["message"]
    assert [e["type"] for e in head[:-1]] in (
        [],
        ["start"],
        ["start", "citations"],
        ["start", "citations", "delta"],
    )  # (the first chat's events so far; nothing of the refused one)
    assert [e["type"] for e in rest].count("end") == 2
    assert all(e["finish_reason"] == "stop" for e in rest if e["type"] == "end")
    assert "error" not in [e["type"] for e in rest]
    assert after[-1]["finish_reason"] == "stop"
    assert len(openai_stub.chat_requests()) == 3  # the refused chat never reached the model
    assert Message.objects.filter(role="user").count() == 3


def test_a_chat_refused_by_the_socket_cap_echoes_its_conversation_id(
    kb, make_key, openai_stub, settings
):
    """A chat frame has no id of its own (API.md: the fields of POST /v1/chat); the refusal
    names the conversation the refused chat was for, when its frame named one, so that a client
    running several conversations on one socket can tell which question to send again."""
    import threading

    settings.WS_MAX_CHATS_PER_SOCKET = 1
    key = make_key(kb.tenant)
    gate = threading.Event()
    openai_stub.script = Script(reply="Use AnonRateThrottle [1].", hold_last=gate)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q})
        start = await comm.receive_json_from(timeout=10)
        conversation = start["conversation_id"].upper()  # echoed as sent
        refused = []
        for extra in ({"conversation_id": conversation}, {}, {"conversation_id": "nope"}):
            await comm.send_json_to({"type": "chat", "bot": "helper", "message": Q, **extra})
            refused += [e for e in await _collect(comm, until=("error",)) if e["type"] == "error"]
        gate.set()
        rest = await _collect(comm)
        await comm.disconnect()
        return conversation, refused, rest

    conversation, refused, rest = async_to_sync(run)()
    assert [e["error"]["type"] for e in refused] == ["rate_limited"] * 3
    assert refused[0]["error"]["details"] == {"conversation_id": conversation}
    assert "details" not in refused[1]["error"]  # a new conversation's chat: nothing to name
    assert "details" not in refused[2]["error"]  # not an id: not echoed
    assert rest[-1]["finish_reason"] == "stop"
    assert len(openai_stub.chat_requests()) == 1
