"""The `chat` REPL fed by a pipe or file (a script of questions), and arguments it cannot use:
one CommandError sentence up front, never a traceback after the answers."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)

Q = "How do I limit anonymous clients per day?"


def _stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_piped_questions_ended_by_an_empty_line(kb, settings, monkeypatch):
    settings.CHAT_PROVIDER = "extractive"
    # The empty line ends the REPL while the stream still holds the lines after it.
    _stdin(monkeypatch, Q.encode() + b"\n\nnot asked\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("chat", "--tenant", "acme", "--bot", "helper", stdout=out, stderr=err)
    assert "AnonRateThrottle" in out.getvalue()
    assert list(Message.objects.filter(role="user").values_list("content", flat=True)) == [Q]


def test_repl_with_an_unknown_bot_or_scope_stops_before_the_first_question(kb, monkeypatch):
    asked = []

    def empty_line(prompt: str = "") -> str:  # would end the REPL at once
        asked.append(prompt)
        return ""

    monkeypatch.setattr("builtins.input", empty_line)
    with pytest.raises(CommandError, match="No such bot"):
        call_command("chat", "--tenant", "acme", "--bot", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No such scope"):
        call_command(
            "chat", "--tenant", "acme", "--bot", "helper", "--scope", "nope",
            stdout=io.StringIO(),
        )  # fmt: skip
    assert asked == []


def test_user_longer_than_the_api_allows_is_refused(kb, settings):
    settings.CHAT_PROVIDER = "extractive"
    with pytest.raises(CommandError, match="--user must be at most 200 characters"):
        call_command(
            "chat", "--tenant", "acme", "--bot", "helper", "--user", "u" * 201, Q,
            stdout=io.StringIO(),
        )  # fmt: skip
    assert not Conversation.objects.exists()
    call_command(
        "chat", "--tenant", "acme", "--bot", "helper", "--user", "u" * 200, Q,
        stdout=io.StringIO(),
    )  # fmt: skip
    assert Conversation.objects.get().user == "u" * 200


def test_an_answer_longer_than_the_revalidation_interval_is_not_cut(kb, openai_stub, settings):
    # The command's context holds no credential: the watcher that ends chats of revoked keys
    # took it for a revoked one and ended every answer streaming longer than the interval.
    from chatbot_project.testing.openai_stub import Script

    settings.CHAT_REVALIDATE_SECONDS = 0.2
    openai_stub.script = Script(reply="one two three four five six seven eight", token_delay=0.15)
    out, err = io.StringIO(), io.StringIO()
    call_command("chat", "--tenant", "acme", "--bot", "helper", Q, stdout=out, stderr=err)
    assert "revoked" not in err.getvalue()
    assert "one two three four five six seven eight" in out.getvalue()
    answer = Message.objects.get(role="assistant")
    assert (answer.finish_reason, answer.content) == ("stop", openai_stub.script.reply)
