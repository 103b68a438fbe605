"""The widget's rating buttons once its key is refused (headless Chromium, the real ASGI app, the
stub model): after a chat refused for the key itself (revoked: the browser sees a CORS refusal;
its chat permission taken away: 403) the thumbs already on screen stayed enabled, and a rating
then said "Could not reach the chat service" (the refused response is hidden from the page, as
for the chat). A rating now says the site or key was refused, and a refused chat disables the
thumbs on screen (and the message box: test_browser_widget_refused_input.py); an answer that
comes after the notice's Try again brings them back.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.models import APIKey
from apikeys.services import api_key_revoke
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    QUESTION,
    ask_widget,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

RATES_DISABLED_JS = """() => [...document.querySelector('chatbot-widget').shadowRoot
  .querySelectorAll('.cb-rate')].map((b) => b.disabled)"""


def _ask(page, question: str, answers: int) -> None:
    shadow(page, "textarea").fill(question)
    page.keyboard.press("Enter")
    wait_widget_answer(page, answers)


def test_a_refused_key_disables_the_rating_buttons_on_screen(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hello.", token_delay=0)
    url = site_page(third_party_site, streaming_app, tenant, "refusedkey")
    key = APIKey.objects.get(name="refusedkey site")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        ask_widget(page, QUESTION)
        assert page.evaluate(RATES_DISABLED_JS) == [False, False]

        # 403: the chat permission taken away.
        APIKey.objects.filter(pk=key.pk).update(permissions=["read"])
        _ask(page, "Still there?", 2)
        assert "Refused" in shadow(page, ".cb-status").last.text_content()
        assert page.evaluate(RATES_DISABLED_JS) == [True, True]

        # Given back: the next answer (after Try again) brings the buttons back (its own too).
        APIKey.objects.filter(pk=key.pk).update(permissions=["chat"])
        shadow(page, ".cb-notice-action").click()
        _ask(page, "And now?", 3)
        assert page.evaluate(RATES_DISABLED_JS) == [False, False, False, False]

        # Revoked: a rating says the site or its key was refused, not a network failure.
        api_key_revoke(tenant=tenant, key=key)
        shadow(page, ".cb-rate--up").first.click()
        note = shadow(page, ".cb-feedback-note:not([hidden])").first
        note.wait_for()
        page.wait_for_function(
            "() => !document.querySelector('chatbot-widget').shadowRoot"
            ".querySelector('.cb-feedback[aria-busy]')"
        )
        assert "Refused" in note.text_content(), note.text_content()
        assert "Could not reach" not in note.text_content()
        # A refused rating disables the message box and every thumb, as a refused chat does.
        assert shadow(page, "textarea").is_disabled()
        assert page.evaluate(RATES_DISABLED_JS) == [True] * 4
        shadow(page, ".cb-notice-action").click()
        _ask(page, "Hello?", 4)
        assert "Refused" in shadow(page, ".cb-status").last.text_content()
        assert page.evaluate(RATES_DISABLED_JS) == [True, True, True, True]
        assert problems == []
