"""A brief outage of /v1/chat in the widget and the playground (headless Chromium, the real ASGI app
behind a real reverse proxy, gateway.py, and the stub model). Before, the widget took a chat
request that failed unreadably while the chat server's address still answered for a refusal of
its key: a gateway's 502 page (no CORS header) or a connection dropped by a restart read
"Refused: this website ... is not allowed to use this chatbot", with the message box disabled
until Try again; the playground said the same of a dropped connection. A readable 503
`unavailable` said "The chat service had a problem (HTTP 503)" and waited for the visitor.
Now such a failure says the service is briefly unavailable, keeps the question (on screen, sent
again by itself after Retry-After, twice at most, then the Retry button; in the playground back
in the message box), and the message box stays usable. A refused key still disables it
(test_browser_widget_refused_input.py).

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import time

import pytest

from apikeys.services import api_key_create
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import QUESTION, send_widget, shadow, site_page
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page
from conversations.tests.gateway import Gateway

pytestmark = BROWSER_TEST_MARKS

UNAVAILABLE = "The chat service is briefly unavailable."
FINAL = f"{UNAVAILABLE} Please try again in a moment."

STATE_JS = """() => {
  const root = document.querySelector('chatbot-widget').shadowRoot;
  const statuses = [...root.querySelectorAll('.cb-status')].filter((s) => !s.hidden);
  return {input: root.querySelector('textarea').disabled,
          send: root.querySelector('.cb-send').disabled,
          notice: root.querySelector('.cb-notice').hidden ? null
            : root.querySelector('.cb-notice').textContent,
          status: statuses.length ? statuses[statuses.length - 1].textContent : null,
          retry: root.querySelectorAll('.cb-retry').length,
          questions: [...root.querySelectorAll('.cb-msg--user .cb-bubble')]
            .map((b) => b.textContent),
          answers: [...root.querySelectorAll(
            '.cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble')].map((b) => b.textContent)};
}"""


@pytest.fixture
def gateway(streaming_app):
    with Gateway(streaming_app.base_url) as gateway:
        yield gateway


def _behind(site, app, tenant, name: str, gateway: Gateway) -> str:
    """A third-party page whose widget (widget.js from the app) chats through the gateway."""
    url = site_page(site, app, tenant, name)
    path = f"/{name}.html"
    site.pages[path] = site.pages[path].replace(
        "data-bot=", f'data-api="{gateway.base_url}" data-bot='
    )
    return url


def _wait_status(page, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(
        """(text) => [...document.querySelector('chatbot-widget').shadowRoot
             .querySelectorAll('.cb-status')].some((s) => !s.hidden && s.textContent === text)""",
        arg=text,
        timeout=timeout,
    )


def _wait_answer(page, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(
        """(text) => [...document.querySelector('chatbot-widget').shadowRoot
             .querySelectorAll('.cb-msg--assistant:not(.cb-streaming) .cb-bubble')]
             .some((b) => b.textContent === text)""",
        arg=text,
        timeout=timeout,
    )


def _assert_usable(state: dict) -> None:
    """Not a refusal: the message box and Send enabled, no refusal notice."""
    assert (state["input"], state["send"], state["notice"]) == (False, False, None), state


def test_a_gateway_down_is_unavailable_not_a_refusal_and_the_question_is_sent_again(
    browser, streaming_app, third_party_site, tenant, openai_stub, gateway
):
    openai_stub.script = Script(reply="Back.", token_delay=0)
    url = _behind(third_party_site, streaming_app, tenant, "gatewaydown", gateway)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        gateway.fail("down")  # its 502 page for everything, CORS-less
        send_widget(page, QUESTION)
        # No Retry-After on a gateway's page: the widget's own 3 seconds.
        _wait_status(page, f"{UNAVAILABLE} Your question will be sent again in 3 seconds.")
        state = page.evaluate(STATE_JS)
        _assert_usable(state)
        assert (state["retry"], state["questions"]) == (1, [QUESTION]), state
        gateway.heal()
        _wait_answer(page, "Back.")
        state = page.evaluate(STATE_JS)
        assert (state["questions"], state["answers"], state["retry"]) == ([QUESTION], ["Back."], 0)
        _assert_usable(state)
        # (Its preflight refused, the first question may never have reached the gateway.)
        assert gateway.questions[-1:] == ["passed"]
        assert "passed" not in gateway.questions[:-1]
        assert all("/v1/" in p for p in problems), problems  # (Chromium's lines on the 502s)


def test_a_503_unavailable_is_sent_again_after_retry_after_twice_then_waits_for_retry(
    browser, streaming_app, third_party_site, tenant, openai_stub, gateway
):
    openai_stub.script = Script(reply="Here now.", token_delay=0)
    url = _behind(third_party_site, streaming_app, tenant, "unavailable503", gateway)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        gateway.fail("unavailable")  # API.md's 503 body with Retry-After: 1, readable
        send_widget(page, QUESTION)
        _wait_status(page, f"{UNAVAILABLE} Your question will be sent again in 1 second.")
        _assert_usable(page.evaluate(STATE_JS))
        _wait_status(page, FINAL)  # after the second automatic retry
        time.sleep(2.5)  # (a third would have gone by now)
        assert gateway.questions == ["unavailable"] * 3
        state = page.evaluate(STATE_JS)
        _assert_usable(state)
        assert (state["status"], state["retry"], state["questions"]) == (FINAL, 1, [QUESTION])

        # The visitor's Retry, once the service is back.
        gateway.heal()
        shadow(page, ".cb-retry").click()
        _wait_answer(page, "Here now.")
        state = page.evaluate(STATE_JS)
        assert (state["questions"], state["answers"]) == ([QUESTION], ["Here now."]), state
        assert gateway.questions == ["unavailable"] * 3 + ["passed"]

        # Another outage, and the visitor asks something else meanwhile: no automatic retry of
        # the first question then.
        gateway.fail("unavailable", times=1)
        shadow(page, "textarea").fill("First?")
        page.keyboard.press("Enter")
        _wait_status(page, f"{UNAVAILABLE} Your question will be sent again in 1 second.")
        shadow(page, "textarea").fill("Second?")
        page.keyboard.press("Enter")
        _wait_answer(page, "Here now.")
        time.sleep(1.5)
        assert gateway.questions[4:] == ["unavailable", "passed"]
        assert problems == []


def test_a_dropped_connection_with_a_good_key_is_not_a_refusal(
    browser, streaming_app, third_party_site, tenant, openai_stub, gateway
):
    openai_stub.script = Script(reply="Still here.", token_delay=0)
    url = _behind(third_party_site, streaming_app, tenant, "dropped", gateway)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        gateway.fail("drop", times=1)  # the chat server itself still answers (a restart's blip)
        send_widget(page, QUESTION)
        _wait_status(page, f"{UNAVAILABLE} Your question will be sent again in 3 seconds.")
        _assert_usable(page.evaluate(STATE_JS))
        _wait_answer(page, "Still here.")
        state = page.evaluate(STATE_JS)
        assert (state["questions"], state["answers"]) == ([QUESTION], ["Still here."]), state
        _assert_usable(state)
        assert gateway.questions == ["drop", "passed"]
        assert all("/v1/chat" in p for p in problems), problems


def test_the_playground_keeps_the_question_of_a_brief_outage(
    browser, streaming_app, tenant, openai_stub, demo, gateway
):
    openai_stub.script = Script(reply="Answered.", token_delay=0)
    _, key = api_key_create(tenant=tenant, name="outage playground", permissions=["chat", "read"])
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(gateway.base_url + "/playground/")  # its API: the gateway, same origin
        page.fill("#pg-key", key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        for mode, first in (("drop", UNAVAILABLE), ("unavailable", UNAVAILABLE)):
            gateway.fail(mode, times=1)
            page.fill("#pg-input", f"Are you up ({mode})?")
            page.keyboard.press("Enter")
            page.wait_for_selector("#pg-chat-error:not([hidden])", timeout=10_000)
            error = page.locator("#pg-chat-error").text_content()
            assert error == f"{first} Please try again in a moment. Your question is back in the " \
                "message box.", error  # fmt: skip
            assert page.locator("#pg-input").input_value() == f"Are you up ({mode})?"
            assert page.locator("#pg-input").is_enabled()
            assert page.locator("#pg-no-chat").is_hidden()
            page.keyboard.press("Enter")  # sent again
            page.wait_for_function(
                "() => [...document.querySelectorAll('.pg-msg-assistant')].at(-1)"
                ".textContent.includes('Answered.')"
            )
        assert gateway.questions == ["drop", "passed", "unavailable", "passed"]
        assert all("/v1/chat" in p for p in problems), problems
