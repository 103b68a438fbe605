"""Dark mode, in headless Chromium (its prefers-color-scheme emulated by Playwright through the
DevTools protocol): the widget was light on every page. It now follows the visitor's
prefers-color-scheme (also when it changes while the page is open), or the script tag's
data-theme="light" | "dark" | "auto", and keeps in both themes the contrast the widget's a11y tests
ask (4.5:1 for its small texts, 3:1 for focus rings).

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import pytest

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    QUESTION,
    REPLY,
    WIDGET,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    new_page,
    screenshot,
)
from conversations.tests.test_browser_widget import CONTRAST_JS
from conversations.tests.test_browser_widget_visitors import RING_JS

pytestmark = BROWSER_TEST_MARKS

# The contrast test's texts, and the answer's own text, code and chips.
TARGETS = [".cb-footnote", ".cb-chips-label", ".cb-title", ".cb-msg--greeting .cb-bubble"]
TARGETS += [".cb-ref", ".cb-chip-n", ".cb-chip-title", ".cb-md p", ".cb-md code"]

BACKGROUND_JS = f"""() => {{
  const root = document.querySelector('{WIDGET}').shadowRoot;
  return [root.querySelector('.cb-root').dataset.theme,
          getComputedStyle(root.querySelector('.cb-panel')).backgroundColor,
          getComputedStyle(root.querySelector('.cb-messages')).colorScheme];
}}"""
PANEL = {"light": "rgb(255, 255, 255)", "dark": "rgb(17, 24, 39)"}


@pytest.mark.parametrize(
    ("scheme", "attribute", "theme"),
    [
        ("dark", None, "dark"),  # the default follows the visitor's system
        ("light", None, "light"),
        ("light", "dark", "dark"),  # data-theme forces it
        ("dark", "light", "light"),
        ("dark", "auto", "dark"),
    ],
)
def test_the_theme_follows_the_visitor_or_data_theme_and_keeps_its_contrast(
    browser, streaming_app, third_party_site, tenant, openai_stub, scheme, attribute, theme
):
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    name = f"theme-{scheme}-{attribute or 'none'}"
    url = site_page(third_party_site, streaming_app, tenant, name)
    if attribute:
        path = f"/{name}.html"
        third_party_site.pages[path] = third_party_site.pages[path].replace(
            "data-bot=", f'data-theme="{attribute}" data-bot='
        )
    with new_page(browser, DESKTOP) as (page, problems):
        page.emulate_media(color_scheme=scheme)
        page.goto(url)
        shadow(page, ".cb-launcher").wait_for()
        # Focus rings, with the keyboard: the launcher, the input, the conversation, Close, New.
        page.keyboard.press("Tab")
        rings = [page.evaluate(RING_JS)]
        page.keyboard.press("Enter")
        rings.append(page.evaluate(RING_JS))
        for _ in range(3):
            page.keyboard.press("Shift+Tab")
            rings.append(page.evaluate(RING_JS))
        assert [r[0] for r in rings] == [
            "cb-launcher", "cb-input", "cb-messages", "cb-icon-btn cb-close", "cb-icon-btn cb-new",
        ]  # fmt: skip
        for name_, outline, width, ratio in rings:
            assert (name_, outline) == (name_, "solid")
            assert width >= 2, (name_, width)
            assert ratio >= 3, rings

        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
        assert page.evaluate(BACKGROUND_JS) == [theme, PANEL[theme], theme]
        ratios = page.evaluate(CONTRAST_JS, [WIDGET, TARGETS])
        assert all(ratio >= 4.5 for _, ratio in ratios), (theme, ratios)
        screenshot(page, f"widget-{name}")
        assert problems == []


def test_auto_follows_a_change_of_the_visitors_scheme_without_a_reload(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    url = site_page(third_party_site, streaming_app, tenant, "theme-switch")
    with new_page(browser, DESKTOP) as (page, problems):
        page.emulate_media(color_scheme="light")
        page.goto(url)
        shadow(page, ".cb-launcher").click()
        assert page.evaluate(BACKGROUND_JS)[:2] == ["light", PANEL["light"]]
        page.emulate_media(color_scheme="dark")
        page.wait_for_function(
            f"""() => document.querySelector('{WIDGET}').shadowRoot
                  .querySelector('.cb-root').dataset.theme === 'dark'"""
        )
        assert page.evaluate(BACKGROUND_JS)[:2] == ["dark", PANEL["dark"]]
        assert problems == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_tables_failures_and_retry_keep_their_contrast_in_both_themes(
    browser, streaming_app, third_party_site, tenant, openai_stub, theme
):
    name = f"theme-failure-{theme}"
    url = site_page(third_party_site, streaming_app, tenant, name)
    path = f"/{name}.html"
    third_party_site.pages[path] = third_party_site.pages[path].replace(
        "data-bot=", f'data-theme="{theme}" data-bot='
    )
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        openai_stub.script = Script(reply="| Plan | Seats |\n| --- | ---: |\n| Team | 10 |")
        shadow(page, ".cb-launcher").click()
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
        openai_stub.script = Script(reply="unused", status=500)
        shadow(page, "textarea").fill("And then?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        targets = [".cb-md th", ".cb-md td", ".cb-status--error", ".cb-retry"]
        ratios = page.evaluate(CONTRAST_JS, [WIDGET, targets])
        assert all(ratio >= 4.5 for _, ratio in ratios), (theme, ratios)
        shadow(page, ".cb-retry").focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # the keyboard's focus, so that :focus-visible applies
        ring = page.evaluate(RING_JS)
        assert ring[0] == "cb-retry"
        assert ring[1:3] == ["solid", 3]
        assert ring[3] >= 3, ring
        assert problems == []
