"""The widget's message box once the server refuses its key (headless Chromium, the real ASGI app,
the stub model). Before, after a chat refused for the key itself (its chat permission taken
away: 403; this site's origin no longer allowed, or the key revoked: the browser's CORS refusal)
the input and Send stayed enabled: the visitor kept typing questions that could only be refused
the same way. Now both are disabled, the placeholder says the chat is unavailable and an alert
under the conversation says why, with a Try again button (the focus moves there from the input)
that enables them for one more attempt; an answer that then comes keeps them enabled.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.models import APIKey
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    ACTIVE_JS,
    QUESTION,
    ask_widget,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

STATE_JS = """() => {
  const root = document.querySelector('chatbot-widget').shadowRoot;
  const input = root.querySelector('textarea'), notice = root.querySelector('.cb-notice');
  return {input: input.disabled, send: root.querySelector('.cb-send').disabled,
          placeholder: input.placeholder, describedby: input.getAttribute('aria-describedby'),
          notice: notice.hidden ? null : notice.textContent, role: notice.getAttribute('role'),
          noticeId: notice.id};
}"""


def _ask(page, question: str, answers: int) -> None:
    shadow(page, "textarea").fill(question)
    page.keyboard.press("Enter")
    wait_widget_answer(page, answers)


def _assert_refused(page) -> None:
    state = page.evaluate(STATE_JS)
    assert (state["input"], state["send"]) == (True, True), state
    assert state["placeholder"] == "Chat unavailable", state
    assert (state["role"], state["describedby"]) == ("alert", state["noticeId"]), state
    assert "Messages cannot be sent" in state["notice"], state
    assert state["notice"].endswith("Try again"), state
    assert page.evaluate(ACTIVE_JS) == "cb-notice-action"  # not lost on the host page's body


def _try_again(page, placeholder: str) -> None:
    page.keyboard.press("Enter")  # on the focused Try again
    state = page.evaluate(STATE_JS)
    assert (state["input"], state["send"], state["notice"], state["describedby"]) == (
        False,
        False,
        None,
        None,
    ), state
    assert state["placeholder"] == placeholder
    assert page.evaluate(ACTIVE_JS) == "cb-input"


def test_a_refused_key_disables_the_message_box_until_try_again(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hello.", token_delay=0)
    url = site_page(third_party_site, streaming_app, tenant, "refusedinput")
    key = APIKey.objects.get(name="refusedinput site")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        ask_widget(page, QUESTION)
        placeholder = page.evaluate(STATE_JS)["placeholder"]
        assert not page.evaluate(STATE_JS)["input"]

        # 403: a read-only key now.
        APIKey.objects.filter(pk=key.pk).update(permissions=["read"])
        _ask(page, "Still there?", 2)
        assert "Refused" in shadow(page, ".cb-status").last.text_content()
        _assert_refused(page)

        # Try again while still refused: refused again, disabled again.
        _try_again(page, placeholder)
        _ask(page, "Really?", 3)
        _assert_refused(page)

        # Fixed by the site's owner: Try again, and the answer keeps the box enabled.
        APIKey.objects.filter(pk=key.pk).update(permissions=["chat"])
        _try_again(page, placeholder)
        _ask(page, "And now?", 4)
        assert shadow(page, ".cb-bubble").last.text_content() == "Hello."
        state = page.evaluate(STATE_JS)
        assert (state["input"], state["send"], state["notice"]) == (False, False, None), state

        # This site's origin taken off the key (the browser sees a CORS refusal).
        APIKey.objects.filter(pk=key.pk).update(allowed_origins=["https://elsewhere.example"])
        _ask(page, "Hello?", 5)
        assert "is not allowed" in shadow(page, ".cb-status").last.text_content()
        _assert_refused(page)
        assert problems == []
