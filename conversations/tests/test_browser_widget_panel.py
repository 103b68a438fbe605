"""The widget's panel on the host page (headless Chromium, the real ASGI app): a long data-title
stays on the header's one line (ending in an ellipsis, the whole title its tooltip and the
dialog's name), and two widgets in one corner never show their panels over each other.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from conversations.tests.browser_demo import WIDGET, shadow, site_page
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    PHONE,
    new_page,
    screenshot,
)

pytestmark = BROWSER_TEST_MARKS

TITLE = "Acme Corporation customer support assistant for orders, returns and warranties"

# The title's box and line height, whether it is cut, the dialog's name (aria-labelledby), and
# the header buttons' boxes.
HEADER_JS = f"""() => {{
  const root = document.querySelector('{WIDGET}').shadowRoot;
  const title = root.querySelector('.cb-title'), panel = root.querySelector('.cb-panel');
  const named = root.getElementById(panel.getAttribute('aria-labelledby'));
  const buttons = [...root.querySelectorAll('.cb-header button')].map((b) => {{
    const r = b.getBoundingClientRect();
    return [Math.round(r.width), r.right <= window.innerWidth];
  }});
  return [title.getBoundingClientRect().height, parseFloat(getComputedStyle(title).lineHeight),
          title.scrollWidth > title.clientWidth, title.getAttribute('title'), named.textContent,
          buttons];
}}"""


def test_a_long_title_keeps_to_one_line_on_a_phone(
    browser, streaming_app, third_party_site, tenant
):
    """The title wrapped onto four lines of the phone's header, pushing the conversation down."""
    url = site_page(third_party_site, streaming_app, tenant, "titled")
    page_html = third_party_site.pages["/titled.html"]
    third_party_site.pages["/titled.html"] = page_html.replace(
        "data-bot=", f'data-title="{TITLE}" data-bot='
    )
    with new_page(browser, PHONE) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").click()
        screenshot(page, "widget-long-title-phone")
        height, line, cut, tooltip, name, buttons = page.evaluate(HEADER_JS)
        assert height < 1.5 * line, f"the title takes {height / line:.1f} lines"
        assert cut  # ends in an ellipsis (text-overflow), the rest out of sight
        assert tooltip == TITLE
        assert name == TITLE  # what screen readers say the dialog is
        assert buttons == [[36, True], [36, True]], buttons  # New and Close stay whole
        launcher_name = shadow(page, ".cb-launcher").get_attribute("aria-label")
        assert launcher_name == f"Close chat: {TITLE}"
        assert problems == []


# Each widget's bot, whether its panel is open, and its panel's box.
PANELS_JS = """() => [...document.querySelectorAll('chatbot-widget')].map((host) => {
  const panel = host.shadowRoot.querySelector('.cb-panel');
  const r = panel.getBoundingClientRect();
  return [host.dataset.bot, !panel.hidden, [r.left, r.top, r.right, r.bottom]];
})"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _two_widget_page(site, app, tenant, name: str, *, other: str, attrs: str = "") -> str:
    """A page with the widgets of bots `name` and `other` (the second tag with `attrs`)."""
    url = site_page(site, app, tenant, name)
    site_page(site, app, tenant, other)
    tag = site.pages[f"/{other}.html"].split("<script ")[1].split("</script>")[0]
    tag = tag.replace("data-bot=", f"{attrs} data-bot=")
    first = site.pages[f"/{name}.html"]
    site.pages[f"/{name}.html"] = first.replace("</body>", f"<script {tag}</script></body>")
    return url


def test_two_widgets_in_one_corner_never_open_over_each_other(
    browser, streaming_app, third_party_site, tenant
):
    """The launchers stacked, but the panels did not: with one panel open the other widget's
    launcher, reached with Tab, opened its panel over the first (and two data-open="true" tags
    opened both at once, one hiding the other). Opening one panel now closes the other panel
    of its corner; widgets in opposite corners keep both open on a wide screen."""
    url = _two_widget_page(third_party_site, streaming_app, tenant, "orders", other="returns")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        page.wait_for_function("() => document.querySelectorAll('chatbot-widget').length === 2")
        launchers = page.locator(f"{WIDGET} .cb-launcher")
        launchers.nth(1).wait_for()
        launchers.nth(0).click()
        launchers.nth(1).focus()  # under the open panel: by keyboard
        page.keyboard.press("Enter")
        panels = page.evaluate(PANELS_JS)
        assert [open_ for _, open_, _ in panels] == [False, True], panels
        second_input = page.evaluate(
            "() => document.activeElement === document.querySelectorAll('chatbot-widget')[1]"
        )
        assert second_input  # the focus stays in the widget that opened
        launchers.nth(1).focus()
        page.keyboard.press("Enter")  # closes the second; the first stays closed
        assert [open_ for _, open_, _ in page.evaluate(PANELS_JS)] == [False, False]
        assert problems == []

    site, app = third_party_site, streaming_app
    url = _two_widget_page(site, app, tenant, "opened", other="also-open", attrs='data-open="true"')
    page_html = third_party_site.pages["/opened.html"]
    third_party_site.pages["/opened.html"] = page_html.replace(
        "data-bot=", 'data-open="true" data-bot=', 1
    )
    with new_page(browser, PHONE) as (page, problems):
        page.goto(url)
        page.wait_for_function(
            "() => [...document.querySelectorAll('chatbot-widget')].filter((h) => !h.hidden)"
            ".length === 2"
        )
        page.wait_for_timeout(200)
        panels = page.evaluate(PANELS_JS)
        assert sum(open_ for _, open_, _ in panels) == 1, panels
        assert problems == []

    url = _two_widget_page(site, app, tenant, "lefty", other="righty", attrs='data-position="left"')
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        page.wait_for_function("() => document.querySelectorAll('chatbot-widget').length === 2")
        launchers = page.locator(f"{WIDGET} .cb-launcher")
        launchers.nth(1).wait_for()
        launchers.nth(0).click()
        launchers.nth(1).click()
        (_, open_a, box_a), (_, open_b, box_b) = page.evaluate(PANELS_JS)
        assert open_a  # opposite corners, side by side
        assert open_b
        assert not _overlap(box_a, box_b)
        assert problems == []
