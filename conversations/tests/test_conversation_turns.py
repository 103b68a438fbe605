"""One answer at a time per conversation, and no turn lost when the client leaves early (the
real ASGI app in a server process, the real stub upstream, real PostgreSQL and Redis).

- A second message sent while the conversation's previous one is being answered is a 409
  ``conflict`` (both used to run: question, question, answer, answer, each answer without the
  other turn in its history); the conversation is free again however the chat ended.
- A client that leaves while its chat is being prepared (before the stream began) still has
  its question stored, with an empty ``cancelled`` answer (nothing was stored before).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

import httpx
import psycopg
import pytest
from django.db import connection

from chatbot_project.testing.openai_stub import Script
from conversations.models import Conversation, Message
from conversations.tests.conftest import build_kb
from conversations.tests.live_fixtures import QUESTION, read_events

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _post(base: str, key: str, timeout: float = 10, **body):
    return httpx.post(
        f"{base}/v1/chat", json={"bot": "helper", "message": QUESTION, **body},
        headers={"Authorization": f"Bearer {key}"}, timeout=timeout,
    )  # fmt: skip


class _HeldStream:
    """A streaming chat that has sent its first delta and waits (the stub holds its last
    token) until ``finish()``."""

    def __init__(self, base: str, key: str, stub, **body) -> None:
        self.stub = stub
        self.gate = threading.Event()
        stub.script = Script(reply="Use AnonRateThrottle with a rate.", hold_last=self.gate)
        self.client = httpx.Client(timeout=10)
        self.cm = self.client.stream(
            "POST", f"{base}/v1/chat",
            json={"bot": "helper", "message": QUESTION, "stream": True, **body},
            headers={"Authorization": f"Bearer {key}"},
        )  # fmt: skip
        res = self.cm.__enter__()
        self.events = read_events(res.iter_lines())
        self.start: dict = {}
        for event, data in self.events:
            if event == "start":
                self.start = data
            if event == "delta":
                break

    def finish(self) -> list[str]:
        self.gate.set()
        rest = [event for event, _ in self.events]
        self.cm.__exit__(None, None, None)
        self.client.close()
        return rest

    def leave(self) -> None:
        """The client goes away mid-answer. The held token is released only once the server
        closed its upstream request (within 1 s, API.md's cancellation): released at once, the
        answer could complete before the server saw the disconnect (a timing flake under load)."""
        held = self.stub.chat_requests()[-1]
        self.cm.__exit__(None, None, None)
        self.client.close()
        deadline = time.monotonic() + 3
        while held.client_closed_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
        self.gate.set()


def test_second_message_while_answering_is_409_and_free_once_answered(live):
    base, key, stub = live
    first = _post(base, key)
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]

    held = _HeldStream(base, key, stub, conversation_id=conversation)
    busy = _post(base, key, conversation_id=conversation)
    assert busy.status_code == 409, busy.text
    assert busy.json()["error"]["type"] == "conflict"
    assert "previous message" in busy.json()["error"]["message"]
    assert busy.headers["Retry-After"] == "1"
    # Another conversation of the same key is not held up (the stub reads its script per
    # request: the held answer keeps waiting for its gate).
    stub.script = Script(reply="ok")
    assert _post(base, key).status_code == 200
    assert held.finish()[-1] == "end"

    stub.script = Script(reply="Set DEFAULT_THROTTLE_RATES.")
    after = _post(base, key, conversation_id=conversation)
    assert after.status_code == 200, after.text
    # Turns in order, each answered once: no interleaving, nothing from the refused request.
    roles = list(
        Message.objects.filter(conversation_id=conversation)
        .order_by("created_at")
        .values_list("role", flat=True)
    )
    assert roles == ["user", "assistant"] * 3
    # The third turn's prompt held the second turn's answer (its history was complete).
    sent = stub.chat_requests()[-1].messages
    assert any("AnonRateThrottle with a rate" in (m.get("content") or "") for m in sent)


def test_a_new_conversation_is_held_from_its_first_message(live):
    """The conversation id reaches the client in `start`; a message sent to it while that
    first answer streams is refused too (the id is locked before the chat begins)."""
    base, key, stub = live
    held = _HeldStream(base, key, stub)
    conversation = held.start["conversation_id"]
    busy = _post(base, key, conversation_id=conversation)
    assert busy.status_code == 409, busy.text
    assert held.finish()[-1] == "end"
    assert _post(base, key, conversation_id=conversation).status_code == 200


def test_conversation_is_free_again_after_a_cancelled_or_failed_answer(live):
    base, key, stub = live
    held = _HeldStream(base, key, stub)
    conversation = held.start["conversation_id"]
    held.leave()  # the client goes away mid-answer
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stub.script = Script(reply="ok")
        res = _post(base, key, conversation_id=conversation)
        if res.status_code != 409:
            break
        time.sleep(0.05)
    assert res.status_code == 200, res.text
    finish = list(
        Message.objects.filter(conversation_id=conversation, role="assistant")
        .order_by("created_at")
        .values_list("finish_reason", flat=True)
    )
    assert finish == ["cancelled", "stop"]

    stub.script = Script(reply="one two three", cut_after=1)  # upstream fails mid-answer
    failed = _post(base, key, conversation_id=conversation)
    assert failed.status_code == 502, failed.text
    stub.script = Script(reply="ok")
    assert _post(base, key, conversation_id=conversation).status_code == 200
    # A refused request (404: not a conversation of this bot) leaves nothing held either.
    unknown = "00000000-0000-4000-8000-000000000000"
    assert _post(base, key, conversation_id=unknown).status_code == 404
    assert _post(base, key, conversation_id=conversation).status_code == 200


def test_another_tenants_key_cannot_hold_or_probe_a_conversation(live, other_tenant, make_key):
    """Tenant B sending tenant A's conversation id while A's answer streams gets A's 404
    (a 409 would tell B the conversation exists), and locks nothing of A's."""
    base, key, stub = live
    build_kb(other_tenant)
    other_key = make_key(other_tenant)
    held = _HeldStream(base, key, stub)
    conversation = held.start["conversation_id"]
    probe = _post(base, other_key, conversation_id=conversation)
    assert probe.status_code == 404, probe.text
    assert held.finish()[-1] == "end"
    stub.script = Script(reply="ok")
    assert _post(base, key, conversation_id=conversation).status_code == 200


@contextlib.contextmanager
def _preparation_held_up():
    """Chats' retrieval waits while this is open: an exclusive lock on the chunks table, taken
    in a session of its own."""
    params = connection.get_connection_params()
    locker = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    try:
        locker.execute("LOCK TABLE datasets_chunk IN ACCESS EXCLUSIVE MODE")
        yield
        time.sleep(0.3)  # the server sees the client gone while the preparation still waits
    finally:
        locker.rollback()
        locker.close()


def _stored_turn(question: str) -> Message:
    """The answer stored for ``question`` (waits for it), after checking the question is."""
    deadline = time.monotonic() + 10
    asked = Message.objects.filter(role="user", content=question)
    while time.monotonic() < deadline and not asked.exists():
        time.sleep(0.05)
    answers = Message.objects.filter(conversation_id=asked.get().conversation_id, role="assistant")
    while time.monotonic() < deadline and not answers.exists():
        time.sleep(0.05)
    return answers.get()


def test_client_leaving_while_its_chat_is_prepared_still_stores_the_turn(live):
    """The preparation (bot, history, retrieval) is held up; the client gives up meanwhile.
    Once it can go on, the chat is stored: the question, and an empty answer marked
    `cancelled`. The model is never called, and the new conversation is not left locked."""
    base, key, stub = live
    question = "Where do the throttle rates live? (asked then abandoned)"
    requests_before = len(stub.chat_requests())
    with _preparation_held_up(), pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{base}/v1/chat", json={"bot": "helper", "message": question, "stream": True},
            headers={"Authorization": f"Bearer {key}"}, timeout=httpx.Timeout(10, read=1.0),
        )  # fmt: skip
    answer = _stored_turn(question)
    assert (answer.content, answer.finish_reason) == ("", "cancelled")
    assert answer.total_tokens == 0  # the model was not asked
    assert len(stub.chat_requests()) == requests_before
    stub.script = Script(reply="ok")
    res = _post(base, key, conversation_id=str(answer.conversation_id))
    assert res.status_code == 200, res.text
    assert Conversation.objects.filter(id=answer.conversation_id).count() == 1


def test_socket_closed_while_its_chat_is_prepared_still_stores_the_turn(live):
    from websockets.sync.client import connect

    base, key, stub = live
    question = "Asked over a socket that closed before any answer"
    requests_before = len(stub.chat_requests())
    with _preparation_held_up(), connect(f"ws{base[4:]}/ws/chat/?key={key}") as socket:
        socket.send(json.dumps({"type": "chat", "bot": "helper", "message": question}))
        time.sleep(0.5)  # the chat waits in its preparation
    answer = _stored_turn(question)
    assert (answer.content, answer.finish_reason) == ("", "cancelled")
    assert len(stub.chat_requests()) == requests_before
