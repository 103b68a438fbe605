"""conversations' migrations applied to a database that already holds conversations: the
bot columns become nullable (a bot's deletion then keeps its conversations) and existing
conversations get their bot's slug."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("conversations", "0001_initial")]
AFTER = [("conversations", "0003_backfill_conversation_bot_slug")]


def _migrate(targets: list[tuple[str, str]] | None = None):
    """Migrate to ``targets`` (default: every app's latest) and return those models."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_conversations_get_their_bots_slug_and_outlive_the_bot():
    try:
        old = _migrate(BEFORE)
        tenant = old.get_model("tenants", "Tenant").objects.create(slug="acme", name="Acme")
        bot_model = old.get_model("bots", "Bot")
        helper = bot_model.objects.create(tenant=tenant, name="Helper", slug="helper")
        other = bot_model.objects.create(tenant=tenant, name="Other", slug="other")
        conversation = old.get_model("conversations", "Conversation")
        message = old.get_model("conversations", "Message")
        convs = {}
        for bot in (helper, other, helper):
            conv = conversation.objects.create(tenant=tenant, bot=bot, title=bot.slug)
            message.objects.create(tenant=tenant, conversation=conv, bot=bot, role="user")
            convs[conv.id] = bot.slug

        new = _migrate(AFTER)
        conversation = new.get_model("conversations", "Conversation")
        assert dict(conversation.objects.values_list("id", "bot_slug")) == convs
        new.get_model("bots", "Bot").objects.filter(id=helper.id).delete()
        kept = conversation.objects.filter(bot_slug="helper")
        assert kept.count() == 2
        assert set(kept.values_list("bot_id", flat=True)) == {None}
        message = new.get_model("conversations", "Message")
        assert message.objects.filter(bot=None).count() == 2
        assert message.objects.count() == 3
    finally:
        _migrate()
