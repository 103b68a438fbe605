"""A PATCH of a bot holds its row locked (FOR NO KEY UPDATE, ``bots.services._locked``) until
it commits; chats with that bot go on meanwhile: they read the bot and insert conversations and
messages referencing it (FOR KEY SHARE, which NO KEY UPDATE does not block). A guard for the
hot path: a slow PATCH transaction must not hold every chat of its bot."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from bots.models import Bot
from bots.services import bot_update
from conversations.models import Conversation, Message
from conversations.tests.live_fixtures import QUESTION
from conversations.tests.test_fastlane import _django, _post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("lane", ["fast lane", "django"])
def test_a_chat_is_answered_and_stored_while_a_patch_of_its_bot_holds_the_row(
    kb, make_key, settings, lane
):
    settings.CHAT_PROVIDER = "extractive"
    key = make_key(kb.tenant, ("chat",))
    bot = Bot.objects.get(slug="helper")
    locked, release = threading.Event(), threading.Event()

    def patch() -> None:
        try:
            with transaction.atomic():
                bot_update(tenant=kb.tenant, bot=bot, data={"system_prompt": "Be brief."})
                locked.set()
                release.wait(30)
        finally:
            locked.set()
            connection.close()

    holder = threading.Thread(target=patch)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        app = _django() if lane == "django" else None
        res = _post(key, {"bot": "helper", "message": QUESTION}, app=app, path="/v1/chat")
        took = time.monotonic() - started
        assert res.status_code == 200, res.text
        body = res.json()
        # Stored while the lock is still held (the turn is committed before the response).
        assert Conversation.objects.filter(id=body["conversation_id"]).exists()
        assert Message.objects.filter(id=body["message_id"]).exists()
        assert took < 10, took
    finally:
        release.set()
        holder.join(30)
    assert Bot.objects.get(pk=bot.pk).system_prompt == "Be brief."
