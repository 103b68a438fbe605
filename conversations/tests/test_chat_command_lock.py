"""The `chat` command takes a conversation's lock as /v1/chat and the WebSocket do: one answer
at a time per conversation. Before, it ignored the lock: its question ran alongside an API
chat's answer in the same conversation (question, question, answer, answer, each answer without
the other's turn), and an API message sent while the command answered was not refused. The API
chats here are the real app in-process (fast lane), with the real stub upstream and Redis."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from chatbot_project.testing.openai_stub import Script
from conversations.models import Message
from conversations.tests.test_fastlane import _post

pytestmark = pytest.mark.django_db(transaction=True)

Q = "How do I limit anonymous clients per day?"
CHAT = ("chat", "--tenant", "acme", "--bot", "helper")


def _api_chat(key: str, **body) -> object:
    return _post(key, {"bot": "helper", "message": Q, **body}, path="/v1/chat")


def _in_thread(target, *args, **kwargs) -> threading.Thread:
    def run() -> None:
        try:
            target(*args, **kwargs)
        finally:
            connections.close_all()  # (this thread's connection: the test database is dropped)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _started(stub, requests: int) -> None:
    """Wait until the stub has received ``requests`` chat requests and sent a token of the
    last one (its chat holds the conversation's lock by then)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = stub.chat_requests()
        if len(got) >= requests and got[-1].tokens_sent:
            return
        time.sleep(0.02)
    raise AssertionError("the held chat did not start")


def _roles(conversation: str) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=conversation)
        .order_by("created_at")
        .values_list("role", flat=True)
    )


def test_command_is_refused_while_an_api_chat_answers_in_the_conversation(
    kb, make_key, openai_stub, monkeypatch
):
    key = make_key(kb.tenant, ("chat",))
    conversation = _api_chat(key).json()["conversation_id"]
    gate = threading.Event()
    openai_stub.script = Script(reply="Use AnonRateThrottle with a rate.", hold_last=gate)
    held = _in_thread(_api_chat, key, conversation_id=conversation, stream=True)
    try:
        _started(openai_stub, 2)
        openai_stub.script = Script(reply="Set DEFAULT_THROTTLE_RATES.")  # (the held one waits)
        busy = f"Conversation {conversation} is still answering a message sent elsewhere"
        with pytest.raises(CommandError, match=busy):
            call_command(*CHAT, "--conversation", conversation, "And per user?")

        def answered_then_ask(prompt: str = "") -> str:
            gate.set()  # the API chat ends; the same question is asked again
            held.join(30)
            return "And per user?"

        lines = iter([lambda p="": "And per user?", answered_then_ask, lambda p="": ""])
        monkeypatch.setattr("builtins.input", lambda prompt="": next(lines)(prompt))
        out, err = io.StringIO(), io.StringIO()
        call_command(*CHAT, "--conversation", conversation, stdout=out, stderr=err)
    finally:
        gate.set()
        held.join(30)
    assert busy in err.getvalue()  # one line on stderr; the REPL went on
    assert "Traceback" not in err.getvalue()
    assert out.getvalue().count("Set DEFAULT_THROTTLE_RATES.") == 1
    # Turns in order, each answered once: nothing of the refused questions was stored.
    assert _roles(conversation) == ["user", "assistant"] * 3
    sent = openai_stub.chat_requests()[-1].messages  # the history held the API chat's answer
    assert any("AnonRateThrottle with a rate" in (m.get("content") or "") for m in sent)


def test_api_chat_is_a_409_while_the_command_answers_in_the_conversation(kb, make_key, openai_stub):
    key = make_key(kb.tenant, ("chat",))
    conversation = _api_chat(key).json()["conversation_id"]
    gate = threading.Event()
    openai_stub.script = Script(reply="Use AnonRateThrottle with a rate.", hold_last=gate)
    out = io.StringIO()
    command = _in_thread(
        call_command, *CHAT, "--conversation", conversation, "And per user?",
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    try:
        _started(openai_stub, 2)
        openai_stub.script = Script(reply="ok")
        busy = _api_chat(key, conversation_id=conversation)
        assert busy.status_code == 409, busy.text
        assert busy.json()["error"]["type"] == "conflict"
        assert _api_chat(key).status_code == 200  # another conversation is not held up
    finally:
        gate.set()
        command.join(30)
    assert "Use AnonRateThrottle with a rate." in out.getvalue()
    # The lock is given back once the command's answer is stored.
    assert _api_chat(key, conversation_id=conversation).status_code == 200
    assert _roles(conversation) == ["user", "assistant"] * 3
