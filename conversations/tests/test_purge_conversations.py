"""purge_conversations deletes a batch of conversations per transaction and says how many
messages went with them.

Repro (ops review): the purge was one `qs.delete()`, which loads every matching conversation
into memory and holds all their row locks until it commits: the first purge of a large install
(millions of conversations) could run out of memory or block chats for its whole length.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.management.commands import purge_conversations
from conversations.models import Conversation, Message
from conversations.tests.factories import BotFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def _conversations(tenant, count: int, days: int) -> list:
    bot = BotFactory(tenant=tenant)
    convs = [ConversationFactory(bot=bot, title=f"{days}d") for _ in range(count)]
    for conv in convs:
        Message.objects.create(tenant=tenant, conversation=conv, role="user", content="hi")
    ids = [c.pk for c in convs]
    Conversation.objects.filter(pk__in=ids).update(updated_at=timezone.now() - timedelta(days))
    return convs


def test_purge_deletes_in_batches_and_keeps_the_recent_and_other_tenants(
    tenant, other_tenant, monkeypatch
):
    monkeypatch.setattr(purge_conversations, "BATCH", 2, raising=False)
    _conversations(tenant, 5, days=100)
    kept = _conversations(tenant, 1, days=1) + _conversations(other_tenant, 1, days=100)
    out = io.StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command(
            "purge_conversations", "--older-than", "90d", "--tenant", tenant.slug, stdout=out
        )
    table = Conversation._meta.db_table
    deletes = [q["sql"] for q in queries if q["sql"].startswith(f'DELETE FROM "{table}"')]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert "Deleted 5 conversation(s) (5 messages) last active before" in out.getvalue()
    assert set(Conversation.objects.all()) == set(kept)
    assert Message.objects.count() == 2


def test_a_dry_run_deletes_nothing(tenant):
    _conversations(tenant, 3, days=100)
    out = io.StringIO()
    call_command("purge_conversations", "--older-than", "90d", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "3 conversation(s) older than 90d would be deleted."
    assert (Conversation.objects.count(), Message.objects.count()) == (3, 3)
