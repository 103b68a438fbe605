"""The playground when its credential may not chat, or stops working (headless Chromium, the
real ASGI app, the stub model): a read-only key's empty conversation says what the key can do
(it said "ask a question" above a disabled box), and a chat refused later (403: the chat
permission taken away; 401: the key revoked) disables the answers' feedback buttons already on
screen with the question box (they stayed enabled, offering a rating the key may not give).

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

DONE = ".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])"


def _connect(page, app, key: str) -> None:
    page.goto(app.base_url + "/playground/")
    page.fill("#pg-key", key)
    page.click("#pg-connect")
    page.wait_for_selector("#pg-app:not([hidden])")


def test_a_read_only_keys_empty_conversation_says_what_it_can_do(
    browser, streaming_app, demo, tenant
):
    _, key_text = api_key_create(tenant=tenant, name="reader", permissions=["read"])
    with new_page(browser, DESKTOP) as (page, problems):
        _connect(page, streaming_app, key_text)
        page.wait_for_selector("#pg-no-chat:not([hidden])")
        empty = page.locator("#pg-empty").text_content()
        assert "ask a question" not in empty.lower(), empty
        assert "This key can read this tenant's conversations" in empty, empty
        page.click("#pg-new")  # a new conversation says the same
        assert page.locator("#pg-empty").text_content() == empty
        assert problems == []
    # A key that may chat is still invited to ask.
    _, chat_key = api_key_create(tenant=tenant, name="chatter", permissions=["chat", "read"])
    with new_page(browser, DESKTOP) as (page, problems):
        _connect(page, streaming_app, chat_key)
        assert "ask a question" in page.locator("#pg-empty").text_content()
        assert problems == []


def _answer_once(page, app, key: str) -> None:
    _connect(page, app, key)
    page.fill("#pg-input", "First question?")
    page.keyboard.press("Enter")
    page.wait_for_selector(DONE)


def test_a_chat_refused_later_disables_the_feedback_buttons_on_screen(
    browser, streaming_app, demo, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hello.", token_delay=0)
    # 403: the key's chat permission was taken away after it connected.
    _, key_text = api_key_create(tenant=tenant, name="was chat", permissions=["chat", "read"])
    with new_page(browser, DESKTOP) as (page, problems):
        _answer_once(page, streaming_app, key_text)
        APIKey.objects.filter(name="was chat").update(permissions=["read"])
        page.fill("#pg-input", "Still there?")
        page.keyboard.press("Enter")
        page.wait_for_selector("#pg-input:disabled", timeout=5_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.pg-fb')].every((b) => b.disabled)",
            timeout=5_000,
        )
        assert page.locator(".pg-fb").count() == 4  # both answers' buttons
        assert problems == []

    # 401: the key was revoked; the question box and the buttons go, and the page says why.
    key, key_text = api_key_create(tenant=tenant, name="revoked", permissions=["chat", "read"])
    with new_page(browser, DESKTOP) as (page, problems):
        _answer_once(page, streaming_app, key_text)
        api_key_revoke(tenant=tenant, key=key)
        page.fill("#pg-input", "Still there?")
        page.keyboard.press("Enter")
        page.wait_for_selector("#pg-input:disabled", timeout=5_000)
        assert page.evaluate(
            "() => [...document.querySelectorAll('.pg-fb')].every((b) => b.disabled)"
        )
        assert page.locator("#pg-send").is_disabled()
        assert "revoked" in page.locator("#pg-no-chat").text_content()
        assert page.locator("#pg-input").get_attribute("placeholder") == "This key no longer works"
        assert problems == [], problems
