"""What screen readers are told when the widget's answer ends (headless Chromium, the real ASGI
app, the stub model): the answer's paragraphs and list items are read as separate words, not run
together ("chips 1.Browser keys ... permission 1Each key").

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import REPLY, ask_widget, shadow, site_page
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS


def test_the_announced_answer_keeps_its_paragraphs_and_items_apart(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply=REPLY + "\n\nLast line\nafter a break.", token_delay=0.002)
    url = site_page(third_party_site, streaming_app, tenant, "spoken-blocks")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        ask_widget(page, "How do answers stream?")
        spoken = shadow(page, ".cb-sr[role=status]").text_content()
        assert spoken.startswith("Assistant: You add the widget with one script tag 1.")
        assert "numbered chips 1. Browser keys have only the chat permission 1 Each key" in spoken
        assert spoken.endswith("per minute 2 Last line after a break."), spoken
        assert problems == []
