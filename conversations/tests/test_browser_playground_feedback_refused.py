"""The playground's thumbs when a rating is refused for the credential itself (headless Chromium,
the real ASGI app, the stub model). Before, a 403 (the key's chat permission taken away since it
connected) or a 401 (the key revoked) on POST /v1/messages/{id}/feedback only printed the error
beside that answer: every thumb stayed enabled, offering ratings the key may not give, and the
question box stayed open. Now a refused rating behaves as a refused chat (and as the widget's
thumbs): the thumbs on screen are disabled, the answer says "Feedback not saved" and why, and the
page says what the credential can still do (403: read only; 401: nothing).

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

DONE = ".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])"
ALL_DISABLED = "() => [...document.querySelectorAll('.pg-fb')].every((b) => b.disabled)"


def _answer_twice(page, app, key: str) -> None:
    page.goto(app.base_url + "/playground/")
    page.fill("#pg-key", key)
    page.click("#pg-connect")
    page.wait_for_selector("#pg-app:not([hidden])")
    for n, question in enumerate(["First question?", "Second question?"], 1):
        page.fill("#pg-input", question)
        page.keyboard.press("Enter")
        page.wait_for_function(
            f"() => document.querySelectorAll('{DONE}').length === {n}", timeout=20_000
        )


def _rate_first(page) -> str:
    page.locator(".pg-fb-up").first.focus()
    page.keyboard.press("Enter")
    status = page.locator(".pg-status").first
    page.wait_for_function(
        "() => document.querySelector('.pg-status').textContent.startsWith('Feedback not saved')",
        timeout=5_000,
    )
    page.wait_for_function(ALL_DISABLED, timeout=5_000)
    assert page.locator(".pg-fb").count() == 4  # both answers' buttons
    # The focus was on the thumb, now disabled: it stays in the answer, not on the page's body.
    assert page.evaluate("() => document.activeElement.classList.contains('pg-msg-assistant')")
    return status.text_content()


def test_a_rating_refused_for_the_key_disables_the_thumbs_and_says_why(
    browser, streaming_app, demo, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hello.", token_delay=0)
    # 403: the key's chat permission was taken away after it connected.
    _, key_text = api_key_create(tenant=tenant, name="rater", permissions=["chat", "read"])
    with new_page(browser, DESKTOP) as (page, problems):
        _answer_twice(page, streaming_app, key_text)
        APIKey.objects.filter(name="rater").update(permissions=["read"])
        status = _rate_first(page)
        assert status.startswith("Feedback not saved: Refused"), status
        page.wait_for_selector("#pg-input:disabled", timeout=5_000)
        assert "lacks the chat permission" in page.locator("#pg-no-chat").text_content()
        assert page.locator(".pg-fb-up").first.get_attribute("aria-pressed") == "false"
        assert problems == []

    # 401: the key was revoked; the question box goes too, and the page says why.
    key, key_text = api_key_create(tenant=tenant, name="revoked", permissions=["chat", "read"])
    with new_page(browser, DESKTOP) as (page, problems):
        _answer_twice(page, streaming_app, key_text)
        api_key_revoke(tenant=tenant, key=key)
        status = _rate_first(page)
        assert "revoked" in status, status
        assert page.locator("#pg-input").is_disabled()
        assert page.locator("#pg-send").is_disabled()
        assert page.locator("#pg-input").get_attribute("placeholder") == "This key no longer works"
        assert "revoked" in page.locator("#pg-no-chat").text_content()
        assert problems == [], problems
