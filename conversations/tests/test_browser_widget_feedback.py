"""Rating answers in the widget (headless Chromium, the real ASGI app, the stub model, a page of
another origin with a browser key): thumbs up and down under each finished answer (none under the
greeting, while it streams or under a failure), one click stores the rating on the Message row
(POST /v1/messages/{id}/feedback with the visitor's `user`), a second click changes it, the
pressed button says which (aria-pressed), the outcome is said briefly and to screen readers, and a
reload restores it with the stored transcript. data-feedback="off" shows none, and a visitor who
has another visitor's answer on screen (their stored transcript copied) cannot rate it. Before,
the widget had no way to rate an answer.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import pytest

from chatbot_project.testing.openai_stub import Script
from conversations.models import Message
from conversations.tests.browser_demo import (
    ACTIVE_JS,
    QUESTION,
    REPLY,
    WIDGET,
    ask_widget,
    send_widget,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page, screenshot
from conversations.tests.test_browser_widget import CONTRAST_JS
from conversations.tests.test_browser_widget_visitors import RING_JS

pytestmark = BROWSER_TEST_MARKS

ANNOUNCER = ".cb-sr[role=status]"


def _pressed(page) -> list[str | None]:
    return [
        shadow(page, f".cb-rate--{r}").last.get_attribute("aria-pressed") for r in ("up", "down")
    ]


def _answer(bot: str) -> Message:
    return Message.objects.get(conversation__bot__slug=bot, role="assistant")


def _with_attribute(site, name: str, attribute: str) -> None:
    path = f"/{name}.html"
    site.pages[path] = site.pages[path].replace("data-bot=", f"{attribute} data-bot=")


def test_a_visitor_rates_an_answer_changes_their_mind_and_finds_it_after_a_reload(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply=REPLY, token_delay=0.02)
    url = site_page(third_party_site, streaming_app, tenant, "rated")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        send_widget(page, QUESTION)
        shadow(page, ".cb-streaming .cb-md p").first.wait_for()  # words on screen, still streaming
        assert shadow(page, ".cb-feedback").count() == 0
        wait_widget_answer(page, 1)
        assert shadow(page, ".cb-msg--greeting .cb-feedback").count() == 0
        group = shadow(page, ".cb-msg--assistant .cb-feedback").last
        assert group.get_attribute("role") == "group"
        assert group.get_attribute("aria-label") == "Rate this answer"
        assert shadow(page, ".cb-rate--up").last.get_attribute("aria-label") == "Helpful"
        assert shadow(page, ".cb-rate--down").last.get_attribute("aria-label") == "Not helpful"
        assert _pressed(page) == ["false", "false"]
        assert _answer("rated").feedback_rating == ""

        shadow(page, ".cb-rate--up").last.click()
        note = shadow(page, ".cb-feedback-note").last
        page.wait_for_function(
            f"""() => document.querySelector('{WIDGET}').shadowRoot
                  .querySelector('.cb-rate--up').getAttribute('aria-pressed') === 'true'"""
        )
        assert _pressed(page) == ["true", "false"]
        assert _answer("rated").feedback_rating == "up"
        assert note.text_content() == "Feedback saved: helpful."
        assert shadow(page, ANNOUNCER).text_content() == "Feedback saved: helpful."

        # The visitor changes their mind, with the keyboard: the focus stays on the button.
        shadow(page, ".cb-rate--down").last.focus()
        page.keyboard.press("Enter")
        shadow(page, ".cb-rate--down[aria-pressed=true]").wait_for()
        assert page.evaluate(ACTIVE_JS) == "cb-rate cb-rate--down"
        assert _pressed(page) == ["false", "true"]
        assert _answer("rated").feedback_rating == "down"
        assert shadow(page, ANNOUNCER).text_content() == "Feedback saved: not helpful."

        page.reload()
        shadow(page, ".cb-launcher").click()
        assert shadow(page, ".cb-rate--down").last.get_attribute("aria-pressed") == "true"
        assert _pressed(page) == ["false", "true"]

        # A failed answer has none.
        openai_stub.script = Script(reply="unused", status=500)
        shadow(page, "textarea").fill("And the rate limits?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        assert shadow(page, ".cb-msg--assistant").last.locator(".cb-status--error").count() == 1
        assert shadow(page, ".cb-feedback").count() == 1
        assert problems == []


def test_data_feedback_off_shows_no_rating_buttons(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """The same bot's widget on two pages of the site: with the attribute, no buttons."""
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    url = site_page(third_party_site, streaming_app, tenant, "unrated")
    pages = third_party_site.pages
    pages["/unrated-off.html"] = pages["/unrated.html"].replace(
        "data-bot=", 'data-feedback="off" data-bot='
    )
    for page_url, buttons in [(url, 2), (url.replace("unrated", "unrated-off"), 0)]:
        with new_page(browser, DESKTOP) as (page, problems):
            page.goto(page_url)
            ask_widget(page, QUESTION)
            assert "one script tag" in shadow(page, ".cb-bubble").last.text_content()
            assert shadow(page, ".cb-rate").count() == buttons, page_url
            assert shadow(page, ".cb-feedback").count() == (1 if buttons else 0)
            assert problems == []


def test_a_visitor_cannot_rate_another_visitors_answer(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """Bob's browser holds Alice's stored transcript (a shared computer's copy, or a crafted
    one): her answer shows with its buttons, but the server rates only Bob's own answers."""
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    url = site_page(third_party_site, streaming_app, tenant, "visitors")
    with new_page(browser, DESKTOP) as (alice, problems):
        alice.goto(url)
        ask_widget(alice, QUESTION)
        transcript = alice.evaluate(
            "() => Object.entries(localStorage).filter(([k]) => k.endsWith(':visitors'))[0]"
        )
        assert problems == []
    with new_page(browser, DESKTOP) as (bob, problems):
        bob.goto(url)
        bob.evaluate("([k, v]) => localStorage.setItem(k, v)", transcript)
        bob.reload()
        shadow(bob, ".cb-launcher").click()
        shadow(bob, ".cb-rate--down").last.click()
        shadow(bob, ".cb-feedback-note--error").wait_for()
        note = shadow(bob, ".cb-feedback-note").last.text_content()
        assert note == "Your feedback was not saved. This answer can no longer be rated."
        assert shadow(bob, ANNOUNCER).text_content() == note
        assert _pressed(bob) == ["false", "false"]
        assert _answer("visitors").feedback_rating == ""
        assert problems == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_buttons_keep_their_contrast_and_focus_ring_in_both_themes(
    browser, streaming_app, third_party_site, tenant, openai_stub, theme
):
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    name = f"rated-{theme}"
    url = site_page(third_party_site, streaming_app, tenant, name)
    _with_attribute(third_party_site, name, f'data-theme="{theme}"')
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        ask_widget(page, QUESTION)
        shadow(page, ".cb-rate--up").last.click()
        shadow(page, ".cb-rate--up[aria-pressed=true]").wait_for()
        targets = [".cb-rate--up", ".cb-rate--down", ".cb-feedback-note"]
        ratios = page.evaluate(CONTRAST_JS, [WIDGET, targets])
        assert all(ratio >= 4.5 for _, ratio in ratios), (theme, ratios)
        shadow(page, ".cb-rate--down").focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # the keyboard's focus, so that :focus-visible applies
        ring = page.evaluate(RING_JS)
        assert ring[0] == "cb-rate cb-rate--down"
        assert ring[1:3] == ["solid", 3]
        assert ring[3] >= 3, ring
        screenshot(page, f"widget-feedback-{theme}")
        assert problems == []
