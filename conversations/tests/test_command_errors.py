"""chat and purge_conversations: bad arguments are one CommandError sentence (and purge nothing:
an ambiguous "3m" or an empty --tenant); the chat REPL skips a line it cannot send (NUL, bytes
that are not UTF-8) and carries on."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)

Q = b"How do I limit anonymous clients per day?"


@pytest.mark.parametrize(
    ("question", "message"),
    [("\udcff", "question is not valid UTF-8"), ("a\x00b", "question contains the NUL")],
)
def test_chat_refuses_a_question_it_cannot_store(kb, question, message):
    with pytest.raises(CommandError, match=message):
        call_command("chat", "--tenant", "acme", "--bot", "helper", question, stdout=io.StringIO())
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("question", [[""], ["  "], ["", " "]])
def test_chat_refuses_an_empty_question_instead_of_starting_a_repl(kb, question, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(Q.decode() + "\n"))  # a REPL would answer it
    out = io.StringIO()
    with pytest.raises(CommandError, match="The question is empty"):
        call_command("chat", "--tenant", "acme", "--bot", "helper", *question, stdout=out)
    assert "Type a question" not in out.getvalue()
    assert not Conversation.objects.exists()


def test_chat_refuses_a_bad_tenant_or_bot_argument(kb):
    with pytest.raises(CommandError, match="--tenant is not valid UTF-8"):
        call_command("chat", "--tenant", "\udcff", "--bot", "helper", "hi")
    with pytest.raises(CommandError, match="--bot contains the NUL"):
        call_command("chat", "--tenant", "acme", "--bot", "a\x00", "hi")


def test_repl_skips_lines_it_cannot_send_and_goes_on(kb, settings, monkeypatch):
    settings.CHAT_PROVIDER = "extractive"
    piped = b"a\x00b\n\xff\xfe oops\n" + Q + b"\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(piped), encoding="utf-8"))
    out, err = io.StringIO(), io.StringIO()
    call_command("chat", "--tenant", "acme", "--bot", "helper", stdout=out, stderr=err)
    assert "Line 1 contains the NUL character" in err.getvalue()
    assert "Line 2 is not valid UTF-8" in err.getvalue()
    assert err.getvalue().count("It was skipped.") == 2
    assert "AnonRateThrottle" in out.getvalue()  # the third line was answered
    assert list(Message.objects.filter(role="user").values_list("content", flat=True)) == [
        Q.decode()
    ]


@pytest.mark.parametrize("age", ["99999999999d", "1000000d", "9" * 5000 + "w"])
def test_purge_refuses_an_age_beyond_the_calendar(db, age):
    with pytest.raises(CommandError, match="reaches back before the year 1"):
        call_command("purge_conversations", "--older-than", age, stdout=io.StringIO())


def _old_conversations(*tenants) -> list:
    """One conversation per tenant, last active 10 days ago."""
    from datetime import timedelta

    from django.utils import timezone

    from conversations.tests.factories import BotFactory, ConversationFactory

    convs = [ConversationFactory(bot=BotFactory(tenant=t)) for t in tenants]
    Conversation.objects.update(updated_at=timezone.now() - timedelta(days=10))
    return convs


@pytest.mark.parametrize("age", ["3m", "3 m", "6mo", "2M", "1months"])
def test_purge_refuses_an_age_in_m_which_could_mean_minutes_or_months(tenant, age):
    _old_conversations(tenant)
    with pytest.raises(CommandError, match="'m' could mean minutes or months"):
        call_command("purge_conversations", "--older-than", age, stdout=io.StringIO())
    assert Conversation.objects.count() == 1  # "3m" as minutes would have deleted it


def test_purge_takes_minutes_as_min(tenant):
    _old_conversations(tenant)
    out = io.StringIO()
    call_command("purge_conversations", "--older-than", "30min", stdout=out)
    assert "Deleted 1 conversation(s)" in out.getvalue()
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("slug", ["", "  "])
def test_purge_with_an_empty_tenant_purges_nothing(tenant, other_tenant, slug):
    """`--tenant "$TENANT"` with the variable unset must not purge every tenant."""
    _old_conversations(tenant, other_tenant)
    with pytest.raises(CommandError, match="--tenant is empty"):
        call_command(
            "purge_conversations", "--older-than", "1d", "--tenant", slug, stdout=io.StringIO()
        )
    assert Conversation.objects.count() == 2
