"""Withdrawing a rating from the widget and the playground (headless Chromium, the real ASGI app,
the stub model): a click on the pressed thumb clears the rating (DELETE /v1/messages/{id}/feedback,
the widget's visitor id in ?user=), as common chat UIs do. Before, a second click on the pressed
thumb did nothing (the widget ignored it; the playground posted the same rating again), so a
visitor's mistaken thumb could only be swapped for the other one and stayed counted.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.services import api_key_create
from chatbot_project.testing.openai_stub import Script
from conversations.models import Message
from conversations.tests.browser_demo import (
    ACTIVE_JS,
    QUESTION,
    WIDGET,
    ask_widget,
    shadow,
    site_page,
    wait_for_row,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

ANNOUNCER = ".cb-sr[role=status]"


def _widget_pressed(page) -> list[str | None]:
    return [
        shadow(page, f".cb-rate--{r}").last.get_attribute("aria-pressed") for r in ("up", "down")
    ]


def _rating(**where) -> str:
    return Message.objects.get(role="assistant", **where).feedback_rating


def _wait_note(page, text: str) -> None:
    page.wait_for_function(
        f"""() => document.querySelector('{WIDGET}').shadowRoot
              .querySelector('.cb-feedback-note').textContent === {text!r}"""
    )


def test_a_widget_visitor_clears_their_rating_with_a_second_click(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hello.", token_delay=0)
    url = site_page(third_party_site, streaming_app, tenant, "toggled")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        ask_widget(page, QUESTION)
        shadow(page, ".cb-rate--up").last.focus()
        page.keyboard.press("Enter")
        _wait_note(page, "Feedback saved: helpful.")
        assert _rating(conversation__bot__slug="toggled") == "up"
        assert shadow(page, ".cb-rate--up").last.get_attribute("title") == (
            "Helpful (click again to remove)"
        )

        page.keyboard.press("Enter")  # the same thumb again (the focus stayed on it)
        _wait_note(page, "Feedback removed.")
        assert _widget_pressed(page) == ["false", "false"]
        assert page.evaluate(ACTIVE_JS) == "cb-rate cb-rate--up"
        assert shadow(page, ANNOUNCER).text_content() == "Feedback removed."
        assert _rating(conversation__bot__slug="toggled") == ""
        assert shadow(page, ".cb-rate--up").last.get_attribute("title") == "Helpful"

        # Kept cleared after a reload; the other thumb still rates.
        page.reload()
        shadow(page, ".cb-launcher").click()
        assert _widget_pressed(page) == ["false", "false"]
        shadow(page, ".cb-rate--down").last.click()
        _wait_note(page, "Feedback saved: not helpful.")
        assert _rating(conversation__bot__slug="toggled") == "down"
        shadow(page, ".cb-rate--down").last.click()
        _wait_note(page, "Feedback removed.")
        assert _rating(conversation__bot__slug="toggled") == ""
        assert problems == []


def test_playground_staff_clear_a_rating_with_a_second_click(
    browser, streaming_app, demo, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hello.", token_delay=0)
    _, key_text = api_key_create(tenant=tenant, name="toggler", permissions=["chat", "read"])
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(streaming_app.base_url + "/playground/")
        page.fill("#pg-key", key_text)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        page.fill("#pg-input", "First question?")
        page.keyboard.press("Enter")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])")
        message = wait_for_row(
            lambda: Message.objects.filter(role="assistant", conversation__bot__slug="demo").first()
        )

        up = page.locator(".pg-fb-up").first
        up.click()
        page.wait_for_selector(".pg-fb-up[aria-pressed=true]")
        assert page.locator(".pg-status").first.text_content() == "Feedback saved."
        assert _rating(id=message.id) == "up"

        up.click()
        page.wait_for_function(
            "() => document.querySelector('.pg-status').textContent === 'Feedback removed.'"
        )
        assert up.get_attribute("aria-pressed") == "false"
        assert _rating(id=message.id) == ""

        # The conversation read back from the list shows it unrated; rating it again works.
        page.click("#pg-new")
        page.click(".pg-conv")
        page.wait_for_selector(".pg-msg-assistant .pg-fb-up:not([disabled])")
        assert page.locator(".pg-fb-up").first.get_attribute("aria-pressed") == "false"
        page.locator(".pg-fb-down").first.click()
        page.wait_for_selector(".pg-fb-down[aria-pressed=true]")
        assert _rating(id=message.id) == "down"
        assert problems == []
