"""`manage.py chat` with a bot, scope or conversation that is not there names what was asked
for and in which tenant, and says what to do.

It printed the API's 404 sentence, "No such bot, or it is not visible to this credential.", to
an operator who holds no credential (the command runs as the tenant's owner) and had just typed
the README's `chat --tenant acme --bot support ...` before making the bot."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from conversations.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


def _chat(*args: str) -> None:
    call_command("chat", "--tenant", "acme", *args, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize("question", [["How do I reset my password?"], []])  # asked; the REPL
def test_an_unknown_bot_is_named_with_its_tenant(kb, monkeypatch, question):
    monkeypatch.setattr("builtins.input", lambda prompt="": "")
    with pytest.raises(CommandError) as caught:
        _chat("--bot", "support", *question)
    assert str(caught.value) == (
        "No such bot 'support' in tenant 'acme'; make one with `manage.py create_bot` (or "
        "POST /v1/bots, or the admin)."
    )
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("question", [["How do I limit anonymous clients?"], []])
def test_an_unknown_scope_is_named_with_its_tenant(kb, monkeypatch, question):
    monkeypatch.setattr("builtins.input", lambda prompt="": "")
    with pytest.raises(CommandError) as caught:
        _chat("--bot", "helper", "--scope", "staff", *question)
    assert str(caught.value) == (
        "No such scope 'staff' in tenant 'acme'; make one with `manage.py create_scope` (or "
        "POST /v1/scopes, or the admin)."
    )


@pytest.mark.parametrize("missing", [str(uuid.uuid4()), "abc"])  # unknown; not an id at all
def test_an_unknown_conversation_is_named_with_its_tenant(kb, settings, missing):
    settings.CHAT_PROVIDER = "extractive"
    with pytest.raises(CommandError) as caught:
        _chat("--bot", "helper", "--conversation", missing, "How do I limit anonymous clients?")
    assert str(caught.value) == (
        f"No such conversation '{missing}' in tenant 'acme'; leave --conversation out to start "
        "a new one."
    )
    # Django prints "<class name>: <sentence>": it said "_Gone: No such conversation ...".
    assert type(caught.value) is CommandError


def _repl_deleting_between(monkeypatch, delete) -> tuple[list[Conversation], str]:
    """A REPL of three questions; ``delete(conversation)`` runs after the first answer."""
    asked = iter(["How do I limit anonymous clients?", "And per user?", "And per view?", ""])

    def typed(prompt=""):
        question = next(asked)
        if question == "And per user?":
            delete(Conversation.objects.get())
        return question

    monkeypatch.setattr("builtins.input", typed)
    err = io.StringIO()
    call_command("chat", "--tenant", "acme", "--bot", "helper", stdout=io.StringIO(), stderr=err)
    return list(Conversation.objects.order_by("created_at")), err.getvalue()


def test_a_repl_whose_conversation_was_deleted_starts_a_new_one(kb, settings, monkeypatch):
    """Deleted during the REPL: every later question said "No such conversation None in tenant
    'acme'; leave --conversation out..." (a flag never given) and the REPL kept the dead id."""
    settings.CHAT_PROVIDER = "extractive"
    kept, err = _repl_deleting_between(monkeypatch, lambda c: c.delete())
    assert "None" not in err, err
    assert "can no longer be continued (it was deleted); the next question starts a new " \
        "conversation." in err, err  # fmt: skip
    assert len(kept) == 1
    assert kept[0].messages.count() == 2  # the third question, answered


def test_a_conversation_whose_bot_was_deleted_is_not_called_busy(kb, settings, monkeypatch):
    """Its bot deleted: `chat --conversation` said it was "still answering a message sent
    elsewhere" (every 409 read as the busy one); the REPL then failed every question."""
    from bots.services import bot_delete
    from conversations.tests.factories import BotFactory

    settings.CHAT_PROVIDER = "extractive"

    def rebuild(conversation):
        bot_delete(tenant=kb.tenant, bot=kb.bot)
        BotFactory(tenant=kb.tenant, slug="helper", datasets=[kb.dataset])

    kept, err = _repl_deleting_between(monkeypatch, rebuild)
    assert "still answering" not in err, err
    assert "can no longer be continued (its bot was deleted)" in err, err
    assert len(kept) == 2
    assert kept[1].messages.count() == 2
    with pytest.raises(CommandError) as caught:
        _chat("--bot", "helper", "--conversation", str(kept[0].id), "And per view?")
    assert str(caught.value) == (
        f"Conversation {kept[0].id}'s bot was deleted, so it cannot be continued; leave "
        "--conversation out to start a new one."
    )
