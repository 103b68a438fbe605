"""The `chat` management command streams an answer and prints citations; REPL keeps context."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from conversations.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)

Q = "How do I limit anonymous clients per day?"


def test_single_question_with_citations(kb, settings):
    settings.CHAT_PROVIDER = "extractive"
    out = io.StringIO()
    call_command("chat", "--tenant", "acme", "--bot", "helper", Q, stdout=out)
    text = out.getvalue()
    assert "AnonRateThrottle" in text
    assert "Sources:" in text
    assert "[1] Throttling" in text


def test_repl_continues_the_conversation(kb, openai_stub, monkeypatch):
    answers = iter([Q, "And per user?", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    out = io.StringIO()
    call_command("chat", "--tenant", "acme", "--bot", "helper", stdout=out)
    assert out.getvalue().count("Hello from the stub model.") == 2
    conv = Conversation.objects.get()
    assert conv.message_count == 4
    assert [m["role"] for m in openai_stub.chat_requests()[-1].messages] == [
        "system", "user", "assistant", "user",
    ]  # fmt: skip


def test_unknown_tenant_or_bot(kb):
    with pytest.raises(CommandError):
        call_command("chat", "--tenant", "nope", "--bot", "helper", "hi")
    with pytest.raises(CommandError):
        call_command("chat", "--tenant", "acme", "--bot", "nope", "hi")


def test_a_single_question_whose_answer_failed_exits_1(kb, openai_stub):
    # A script (`manage.py chat ... "question" && next-step`) must see the failure, not 0.
    openai_stub.script.status = 500
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("chat", "--tenant", "acme", "--bot", "helper", Q, stdout=out, stderr=err)
    assert exited.value.code == 1
    assert "error: " in err.getvalue()
    answer = Conversation.objects.get().messages.get(role="assistant")
    assert answer.finish_reason == "error"  # the turn is stored all the same
