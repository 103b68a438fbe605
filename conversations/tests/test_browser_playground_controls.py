"""The playground's controls across its scripts (playground.js calls the message views of
playground_messages.js and the chat of playground_chat.js): a citation number scrolls to and
flashes its source, Stop ends a streaming answer (recorded as cancelled), clicking an earlier
answer shows its own timings and chunks, and Forget key stops using the key.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from conversations.models import Message
from conversations.tests.browser_demo import QUESTION, wait_for_row
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    OBSERVE_JS,
    new_page,
)

pytestmark = BROWSER_TEST_MARKS

DONE = ".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])"


def test_playground_citation_stop_select_and_forget(browser, streaming_app, demo):
    _, _, staff_key = demo
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(streaming_app.base_url + "/playground/")
        page.fill("#pg-key", staff_key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")

        page.fill("#pg-input", QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(DONE)
        page.wait_for_selector(".pg-chunk")
        first_chunks = page.locator("#pg-chunks").text_content()
        ref = page.locator(".pg-msg-assistant .pg-ref").first
        number = ref.text_content()
        ref.click()
        page.wait_for_selector(f"#pg-cite-1-{number}.pg-flash")

        # Stop mid-answer: the words so far stay, the form is back, the server says cancelled.
        page.evaluate(OBSERVE_JS, ["#playground", ".pg-msg-assistant .pg-bubble"])
        page.fill("#pg-input", "Tell me about browser keys.")
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.__cbStates.length >= 1")
        page.click("#pg-stop")
        page.wait_for_function(
            "() => document.querySelectorAll('.pg-msg-assistant:not(.pg-streaming)').length === 2"
        )
        assert page.locator(".pg-msg-assistant .pg-status").last.text_content() == "Stopped."
        assert page.locator("#pg-send").is_visible()
        assert not page.locator("#pg-stop").is_visible()
        assert page.locator(".pg-msg-assistant .pg-bubble").last.text_content()
        wait_for_row(lambda: Message.objects.filter(finish_reason="cancelled").first())

        # The newest answer is selected; clicking the first shows the first one's inspector.
        answers = page.locator(".pg-msg-assistant")
        assert "pg-selected" in answers.last.get_attribute("class")
        answers.first.locator(".pg-bubble").click(position={"x": 4, "y": 4})
        assert "pg-selected" in answers.first.get_attribute("class")
        assert "pg-selected" not in answers.last.get_attribute("class")
        assert page.locator("#pg-chunks").text_content() == first_chunks
        assert "First token" in page.locator("#pg-timings").text_content()

        page.click("#pg-forget")
        assert page.locator("#pg-app").is_hidden()
        assert page.locator("#pg-key-row").is_visible()
        assert page.evaluate("sessionStorage.getItem('chatbot:playground:key')") is None
        assert problems == []
