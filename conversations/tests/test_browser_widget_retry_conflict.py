"""Which 409s offer Retry, in headless Chromium: /v1/chat answers 409 ``conflict`` for a
conversation still answering its previous message (with Retry-After: sending again soon works)
and for a conversation whose bot was deleted (no Retry-After: sending it again in the same
conversation can never work, "start a new conversation"). The widget offered Retry for both.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import json

from apikeys.services import api_key_create
from bots.services import bot_delete
from conversations.models import Conversation
from conversations.tests.browser_demo import (
    DEMO_DOCS,
    QUESTION,
    ask_widget,
    send_widget,
    shadow,
    site_page,
    stored_conversation_id,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page, widget_page
from conversations.tests.conftest import build_kb
from conversations.tests.factories import BotFactory

pytestmark = BROWSER_TEST_MARKS

BUSY = (
    "This conversation is still answering its previous message; send the next one once that "
    "answer has ended (or cancel it)."
)
GONE = (
    "This conversation's bot was deleted, so it cannot be continued; start a new conversation "
    "(send no conversation_id)."
)


def _answer_409(page, origin: str, message: str, retry_after: str | None) -> None:
    def handle(route):
        headers = {
            "content-type": "application/json",
            "access-control-allow-origin": origin,
            "access-control-expose-headers": "retry-after, x-request-id",
        }
        if retry_after:
            headers["retry-after"] = retry_after
        body = {"error": {"type": "conflict", "message": message}}
        route.fulfill(status=409, headers=headers, body=json.dumps(body))

    page.route("**/v1/chat", handle)


def test_only_a_busy_conversations_409_offers_retry(
    browser, streaming_app, third_party_site, tenant
):
    url = site_page(third_party_site, streaming_app, tenant, "conflicts")
    origin = third_party_site.base_url.rstrip("/")
    for message, retry_after, offered in ((BUSY, "1", 1), (GONE, None, 0)):
        with new_page(browser, DESKTOP) as (page, _):
            _answer_409(page, origin, message, retry_after)
            page.goto(url)
            ask_widget(page, QUESTION)
            assert message in shadow(page, ".cb-status").last.text_content()
            assert shadow(page, ".cb-retry").count() == offered, message


def test_a_conversation_whose_bot_was_deleted_continues_in_a_new_one(
    browser, live_app, third_party_site, tenant
):
    """The bot was deleted and made again under the same slug (the page's data-bot works again):
    the visitor's stored conversation belongs to the deleted bot, so every question got the 409
    "start a new conversation" until the visitor found the New conversation button. The widget
    now does what the message says, once, as it does for a stored conversation that is gone."""
    kb = build_kb(tenant, slug="rebuilt", docs=DEMO_DOCS)
    _, key = api_key_create(
        tenant=tenant, name="rebuilt site", permissions=["chat"],
        allowed_origins=[third_party_site.base_url],
    )  # fmt: skip
    third_party_site.pages["/rebuilt.html"] = widget_page(
        app_url=live_app.base_url, bot="rebuilt", key=key
    )
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/rebuilt.html"))
        ask_widget(page, QUESTION)
        first = stored_conversation_id(page, "rebuilt")
        bot_delete(tenant=tenant, bot=kb.bot)
        BotFactory(tenant=tenant, slug="rebuilt", datasets=[kb.dataset])

        page.goto(third_party_site.url("/rebuilt.html"))
        send_widget(page, "And the rate limits?")
        wait_widget_answer(page, 2)
        assert shadow(page, ".cb-msg--error").count() == 0
        second = stored_conversation_id(page, "rebuilt")
        assert second
        assert second != first
        assert Conversation.objects.get(id=second).messages.count() == 2
        assert Conversation.objects.filter(id=first, bot=None).exists()  # kept, as before
        assert problems == []
