"""Reloading (or leaving) the page while the widget's answer streams (headless Chromium, the real
ASGI app, the stub model): the conversation the server started for that question is the one the
next question continues, not a new one without its history.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from chatbot_project.testing.openai_stub import Script
from conversations.models import Conversation, Message
from conversations.tests.browser_demo import (
    REPLY,
    send_widget,
    shadow,
    site_page,
    stored_conversation_id,
    wait_for_row,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS


def test_a_reload_mid_answer_keeps_the_conversation(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply=REPLY, token_delay=0.02)
    url = site_page(third_party_site, streaming_app, tenant, "reloaded")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        send_widget(page, "How do answers stream?")
        shadow(page, ".cb-streaming .cb-md p").first.wait_for()  # the first words are on screen
        page.reload()

        first = Conversation.objects.get(bot__slug="reloaded")
        # The server finishes (and stores) the answer of the page that left.
        wait_for_row(
            lambda: Message.objects.filter(conversation=first, role="assistant").first(),
            timeout=15,
        )
        assert stored_conversation_id(page, "reloaded") == str(first.id)

        send_widget(page, "And what permission do browser keys have?")
        wait_widget_answer(page, 2)  # (the first question's is the note that it was cut off)
        assert Conversation.objects.filter(bot__slug="reloaded").count() == 1
        wait_for_row(
            lambda: (
                Message.objects.filter(conversation=first, role="user")
                .exclude(content="How do answers stream?")
                .first()
            )
        )
        assert problems == []
