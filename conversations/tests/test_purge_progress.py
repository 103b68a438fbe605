"""purge_conversations shows its progress (stderr) when it deletes more than one batch.

The first purge of a large install (millions of conversations, 1,000 per transaction) ran for
minutes with no output until its closing line. One batch or fewer stays quiet; stdout keeps the
closing line alone."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from conversations.management.commands import purge_conversations
from conversations.models import Conversation
from conversations.tests.factories import BotFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def _old(tenant, count: int) -> None:
    bot = BotFactory(tenant=tenant)
    ids = [ConversationFactory(bot=bot).pk for _ in range(count)]
    Conversation.objects.filter(pk__in=ids).update(updated_at=timezone.now() - timedelta(100))


def _purge() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("purge_conversations", "--older-than", "90d", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_purge_of_several_batches_shows_its_progress(tenant, monkeypatch):
    monkeypatch.setattr(purge_conversations, "BATCH", 2)
    _old(tenant, 5)
    out, err = _purge()
    assert out.startswith("Deleted 5 conversation(s)"), out
    assert "purge: 100%" in err, err
    assert "5/5" in err, err


def test_one_batch_is_quiet(tenant):
    _old(tenant, 3)
    out, err = _purge()
    assert out.startswith("Deleted 3 conversation(s)"), out
    assert err == ""
