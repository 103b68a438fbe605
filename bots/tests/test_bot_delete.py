"""Deleting a bot (API, service, admin page and bulk action): the bot goes, its conversations
and messages stay (bot NULL, its last slug kept), and another tenant's bot is a 404."""

from __future__ import annotations

import pytest
from django.db.models import Value
from django.db.models.functions import Concat

from bots import services
from bots.models import Bot
from bots.tests.factories import BotFactory
from conversations.models import Conversation, Message
from conversations.tests.factories import ConversationFactory, MessageFactory
from tenants.tests.admin_support import admin_client, admin_url
from tenants.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _kept(conv: Conversation, slug: str) -> None:
    conv.refresh_from_db()
    assert (conv.bot_id, conv.bot_slug) == (None, slug)
    assert set(Message.objects.filter(conversation=conv).values_list("bot_id", flat=True)) == {None}


def test_api_delete_keeps_conversations_and_is_tenant_isolated(api, other_api, tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    conv = ConversationFactory(bot=bot)
    MessageFactory(conversation=conv)
    res = other_api.delete(f"/v1/bots/{bot.id}")
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"
    assert Bot.objects.filter(id=bot.id).exists()
    assert Conversation.objects.get(id=conv.id).bot_id == bot.id

    assert api.delete(f"/v1/bots/{bot.id}").status_code == 204
    assert not Bot.objects.filter(id=bot.id).exists()
    _kept(conv, "helper")
    assert api.delete(f"/v1/bots/{bot.id}").status_code == 404


def test_service_delete_keeps_conversations(tenant, other_tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    conv = ConversationFactory(bot=bot)
    MessageFactory(conversation=conv)
    with pytest.raises(AssertionError):  # the tenancy tripwire
        services.bot_delete(tenant=other_tenant, bot=bot)
    services.bot_delete(tenant=tenant, bot=bot)
    assert not Bot.objects.filter(slug="helper").exists()
    _kept(conv, "helper")


def test_admin_page_and_bulk_delete_keep_conversations(client, tenant):
    superuser = admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    bots = [BotFactory(tenant=tenant, slug=f"bot-{i}") for i in range(3)]
    convs = [ConversationFactory(bot=bot) for bot in bots]
    for conv in convs:
        MessageFactory(conversation=conv)
    # Renamed behind the conversations' back: the admin deletes through the service, which
    # records the bot's last slug (Django's own delete would only set bot NULL).
    Bot.objects.filter(pk__in=[b.pk for b in bots]).update(slug=Concat("slug", Value("-last")))

    page = superuser.get(admin_url(bots[0], "delete"))
    assert page.status_code == 200
    assert "conversations" not in page.context["model_count"]  # not among what goes
    assert superuser.post(admin_url(bots[0], "delete"), {"post": "yes"}).status_code == 302
    res = superuser.post(
        "/admin/bots/bot/",
        {"action": "delete_selected", "_selected_action": [b.pk for b in bots[1:]], "post": "yes"},
    )
    assert res.status_code == 302
    assert not Bot.objects.filter(tenant=tenant).exists()
    for conv, bot in zip(convs, bots, strict=True):
        _kept(conv, f"{bot.slug}-last")


def test_admin_lists_a_deleted_bots_conversation_by_its_slug(client, tenant):
    superuser = admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    bot = BotFactory(tenant=tenant, slug="remembered")
    conv = ConversationFactory(bot=bot)
    services.bot_delete(tenant=tenant, bot=bot)
    res = superuser.get("/admin/conversations/conversation/")
    assert res.status_code == 200
    assert "remembered" in res.content.decode()
    assert superuser.get(admin_url(conv)).status_code == 200
