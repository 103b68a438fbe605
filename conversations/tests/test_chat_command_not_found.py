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
        "No such bot 'support' in tenant 'acme'; bots are made through the API (POST /v1/bots) "
        "or the admin."
    )
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("question", [["How do I limit anonymous clients?"], []])
def test_an_unknown_scope_is_named_with_its_tenant(kb, monkeypatch, question):
    monkeypatch.setattr("builtins.input", lambda prompt="": "")
    with pytest.raises(CommandError) as caught:
        _chat("--bot", "helper", "--scope", "staff", *question)
    assert str(caught.value) == (
        "No such scope 'staff' in tenant 'acme'; scopes are made through the API "
        "(POST /v1/scopes) or the admin."
    )


def test_an_unknown_conversation_is_named_with_its_tenant(kb, settings):
    settings.CHAT_PROVIDER = "extractive"
    missing = str(uuid.uuid4())
    with pytest.raises(CommandError) as caught:
        _chat("--bot", "helper", "--conversation", missing, "How do I limit anonymous clients?")
    assert str(caught.value) == (
        f"No such conversation '{missing}' in tenant 'acme'; leave --conversation out to start "
        "a new one."
    )
