"""A bot deleted while one of its chats is answered: the answer is still stored, detached from
the bot like the bot's other conversations (bot NULL, ``bot_slug`` kept), and the client gets
``end``, not an error. (The foreign keys are checked at commit, so this needs real commits.)"""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from django.db import IntegrityError

from bots import services as bot_services
from bots.models import Bot
from chatbot_project.testing.openai_stub import Script
from conversations import chat_writes, services
from conversations.chat import PreparedChat
from conversations.models import Conversation, Message
from conversations.tests.factories import BotFactory
from conversations.tests.live_fixtures import QUESTION, read_events
from tenants.context import AuthContext

pytestmark = pytest.mark.django_db(transaction=True)

USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}


def _prepared(tenant, bot) -> PreparedChat:
    conversation = services.conversation_build(
        tenant=tenant, bot=bot, scope=None, user="u-1", question="What is it?"
    )
    prep = PreparedChat(
        context=AuthContext(tenant=tenant, permissions=frozenset({"chat"})), bot=bot,
        scope=None, conversation=conversation, question="What is it?",
        message_id=uuid.uuid4(), user_message_id=uuid.uuid4(), model="stub-model",
        started=time.perf_counter(), new_conversation=True,
    )  # fmt: skip
    prep.answer, prep.finish_reason, prep.usage, prep.latency_ms = "It is.", "stop", USAGE, 12
    return prep


def _stored_detached(prep: PreparedChat, slug: str) -> None:
    conv = Conversation.objects.get(id=prep.conversation.id)
    assert (conv.bot_id, conv.bot_slug, conv.message_count) == (None, slug, 2)
    rows = Message.objects.filter(conversation=conv).order_by("created_at", "id")
    assert [(m.role, m.content, m.bot_id) for m in rows] == [
        ("user", "What is it?", None),
        ("assistant", "It is.", None),
    ]
    assert rows[1].total_tokens == 10


def test_answer_written_with_its_start_after_the_bot_was_deleted(tenant):
    """The chat ended before its start was written (one transaction for both)."""
    bot = BotFactory(tenant=tenant, slug="helper")
    prep = _prepared(tenant, bot)
    bot_services.bot_delete(tenant=tenant, bot=Bot.objects.get(id=bot.id))
    chat_writes.save(prep, with_start=True)
    _stored_detached(prep, "helper")


def test_answer_after_the_bot_was_deleted_mid_stream_and_conversation_still_conflicts(tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    prep = _prepared(tenant, bot)
    chat_writes.write_start(prep)  # START_WRITE_DELAY in
    bot_services.bot_delete(tenant=tenant, bot=Bot.objects.get(id=bot.id))
    chat_writes.save(prep)
    _stored_detached(prep, "helper")

    # A deleted conversation still loses its answer, as a `conflict` the client is told.
    other = _prepared(tenant, BotFactory(tenant=tenant, slug="other"))
    chat_writes.write_start(other)
    Conversation.objects.filter(id=other.conversation.id).delete()
    with pytest.raises(IntegrityError) as failed:
        chat_writes.save(other)
    error = chat_writes.unsaved_error(failed.value)
    assert error["type"] == "conflict"
    assert "conversation" in error["message"]
    assert not Message.objects.filter(id=other.message_id).exists()


@pytest.mark.e2e
def test_bot_deleted_while_its_answer_streams_keeps_the_answer(live):
    base, key, stub = live
    bot = Bot.objects.get(slug="helper")
    gate = threading.Event()
    stub.script = Script(reply="An answer whose bot goes away", hold_last=gate)
    auth = {"Authorization": f"Bearer {key}"}
    events: list[tuple[str, dict]] = []
    with httpx.Client(timeout=10) as client, client.stream(
        "POST", f"{base}/v1/chat",
        json={"bot": "helper", "message": QUESTION, "stream": True}, headers=auth,
    ) as res:  # fmt: skip
        for event, data in read_events(res.iter_lines()):
            if event == "ping":
                continue
            events.append((event, data))
            if event == "delta" and not gate.is_set():
                stored = Conversation.objects.filter(id=events[0][1]["conversation_id"])
                deadline = time.monotonic() + 5  # the conversation is written 50 ms in
                while not stored.exists() and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert httpx.delete(f"{base}/v1/bots/{bot.id}", headers=auth).status_code == 204
                gate.set()
    assert events[-1][0] == "end", events[-3:]
    msg = Message.objects.get(id=events[0][1]["message_id"])
    assert (msg.content, msg.finish_reason, msg.bot_id) == (stub.script.reply, "stop", None)
    conv = msg.conversation
    assert (conv.bot_id, conv.bot_slug, conv.message_count) == (None, "helper", 2)
    (row,) = httpx.get(f"{base}/v1/usage", headers=auth).json()["data"]
    assert (row["bot"], row["bot_id"], row["assistant_messages"]) == ("helper", None, 1)
    assert row["total_tokens"] == msg.total_tokens > 0
