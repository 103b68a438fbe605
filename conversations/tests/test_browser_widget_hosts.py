"""The widget on customers' pages, in headless Chromium against the real ASGI app (uvicorn
process, test database, the stub model), embedded with the README's one script tag on a page of
another origin whose key allows it: the page's own CSS does not restyle it, its
Content-Security-Policy (as docs/widget.md asks, or one leaving the chat server out of style-src)
does not break it or the page, and several widgets share a page.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.services import api_key_create
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    DEMO_DOCS,
    QUESTION,
    REPLY,
    WIDGET,
    ask_widget,
    shadow,
    site_page,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page
from conversations.tests.conftest import build_kb

pytestmark = BROWSER_TEST_MARKS


HOSTILE_CSS = """<style>
* { font-family: cursive !important; letter-spacing: 4px !important; line-height: 3 !important;
    text-transform: uppercase !important; text-align: right !important; color: red !important;
    font-style: italic !important; word-spacing: 12px !important; }
</style>"""
TYPE_JS = f"""() => {{
  const root = document.querySelector('{WIDGET}').shadowRoot;
  return [...root.querySelectorAll('.cb-title, .cb-msg--greeting .cb-bubble, .cb-footnote')]
    .map((node) => {{
      const s = getComputedStyle(node);
      return [s.fontFamily.split(',')[0], s.letterSpacing, s.lineHeight, s.textTransform,
              s.textAlign, s.fontStyle, s.wordSpacing, s.color === 'rgb(255, 0, 0)'];
    }});
}}"""


def test_the_host_pages_css_does_not_restyle_the_widget(
    browser, streaming_app, third_party_site, tenant
):
    """`:host { all: initial }` loses to the page's own rules for <chatbot-widget>, so a page's
    `* { letter-spacing; text-transform; font-family ... }` flowed into the whole panel."""
    url = site_page(third_party_site, streaming_app, tenant, "hostile", head=HOSTILE_CSS)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").click()
        title, greeting, footnote = page.evaluate(TYPE_JS)
        expected = ["system-ui", "normal", "22.5px", "none", "start", "normal", "0px", False]
        assert greeting == expected
        for typeset in (title, footnote):
            assert typeset[0] == "system-ui"
            assert typeset[1] == "normal", typeset  # letter-spacing
            assert typeset[3] == "none", typeset  # text-transform
            assert typeset[5] == "normal", typeset  # font-style
            assert not typeset[7], typeset  # the page's red
        assert problems == []


def csp_page(app_url: str, bot: str, key: str) -> str:
    """A page without inline style or script of its own (its CSP allows neither)."""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CSP site</title>
</head><body><h1>A site with a Content-Security-Policy</h1><p>Its own content.</p>
<script src="{app_url}/static/chatbot/widget.js" data-bot="{bot}" data-key="{key}"
  data-accent="#0f766e" async></script></body></html>"""


def test_a_host_page_csp_without_inline_styles(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """docs/widget.md's policy (the chat server in script-src, style-src and connect-src, no
    'unsafe-inline') runs the widget without a violation. A page whose style-src leaves the chat
    server out blocks widget.css: the widget then showed unstyled inside the page's content (its
    buttons, headings and form between the page's paragraphs); now it stays hidden and says why
    in the console."""
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    app = streaming_app.base_url
    kb = build_kb(tenant, slug="csp", docs=DEMO_DOCS)
    _, key = api_key_create(
        tenant=tenant, name="csp site", permissions=["chat"], bots=[kb.bot],
        allowed_origins=[third_party_site.base_url],
    )  # fmt: skip
    documented = f"default-src 'self'; script-src {app}; style-src {app}; connect-src {app}"
    strict = f"default-src 'self'; script-src {app}; style-src 'self'; connect-src {app}"
    for path, policy in (("/csp.html", documented), ("/strict.html", strict)):
        third_party_site.pages[path] = csp_page(app, "csp", key)
        third_party_site.headers[path] = {"Content-Security-Policy": policy}

    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/csp.html"))
        ask_widget(page, QUESTION)
        assert "one script tag" in shadow(page, ".cb-bubble").last.text_content()
        accent = shadow(page, ".cb-send").evaluate("b => getComputedStyle(b).backgroundColor")
        assert accent == "rgb(15, 118, 110)"  # data-accent, set through the CSSOM
        assert problems == []

    with new_page(browser, DESKTOP) as (page, problems):
        warnings: list[str] = []
        page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
        page.goto(third_party_site.url("/strict.html"))
        page.wait_for_function("() => !!document.querySelector('chatbot-widget')")
        page.wait_for_function(
            "() => document.querySelector('chatbot-widget').shadowRoot.querySelector('link')"
            " && !!window.ChatbotWidget"
        )
        page.wait_for_timeout(500)  # the stylesheet's error event has fired by now
        assert not shadow(page, ".cb-launcher").is_visible()
        assert page.evaluate("document.querySelector('chatbot-widget').hidden") is True
        assert any(f"allow {app} in style-src" in w for w in warnings), warnings
        assert any("widget.css" in p for p in problems), problems  # the browser's own report


# For each widget on the page: its launcher's box and whether a click at its centre reaches it.
LAUNCHERS_JS = """() => [...document.querySelectorAll('chatbot-widget')].map((host) => {
  const launcher = host.shadowRoot.querySelector('.cb-launcher');
  const box = launcher.getBoundingClientRect();
  const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
  const hit = document.elementFromPoint(x, y);
  const reached = hit === host && host.shadowRoot.elementFromPoint(x, y).closest('.cb-launcher');
  return [host.dataset.bot, Math.round(box.y), !!reached];
})"""


def test_several_widgets_on_one_page(browser, streaming_app, third_party_site, tenant):
    """Two bots' widgets took the same corner, the second launcher hiding the first; the same
    tag twice made two panels that overwrote each other's stored conversation."""
    url = site_page(third_party_site, streaming_app, tenant, "sales")
    sales = third_party_site.pages["/sales.html"]
    site_page(third_party_site, streaming_app, tenant, "support")
    support_tag = third_party_site.pages["/support.html"].split("<script ")[1].split("</script>")[0]
    sales_tag = sales.split("<script ")[1].split("</script>")[0]
    extra = f"<script {support_tag}</script><script {sales_tag}</script>"
    third_party_site.pages["/sales.html"] = sales.replace("</body>", extra + "</body>")
    with new_page(browser, DESKTOP) as (page, problems):
        warnings: list[str] = []
        page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
        page.goto(url)
        page.wait_for_function("() => document.querySelectorAll('chatbot-widget').length === 2")
        page.wait_for_timeout(300)  # the duplicate tag has run too
        shadow(page, ".cb-launcher").nth(1).wait_for()
        # (async scripts run as they arrive: either may be the first, lower one)
        lower, upper = sorted(page.evaluate(LAUNCHERS_JS), key=lambda w: -w[1])
        assert {lower[0], upper[0]} == {"sales", "support"}
        assert upper[1] <= lower[1] - 58, (lower, upper)  # stacked, not overlapping
        assert lower[2], lower  # a click at each launcher's centre reaches it
        assert upper[2], upper
        assert warnings == ["Chatbot widget: sales is already on this page."]

        # Each opens its own panel; an open panel lies above the other launcher.
        page.locator(f"chatbot-widget[data-bot={upper[0]}] .cb-launcher").click()
        panel = page.locator(f"chatbot-widget[data-bot={upper[0]}] .cb-panel")
        assert panel.is_visible()
        assert panel.bounding_box()["y"] >= 0
        page.keyboard.press("Escape")
        page.locator(f"chatbot-widget[data-bot={lower[0]}] .cb-launcher").click()
        assert page.locator(f"chatbot-widget[data-bot={lower[0]}] .cb-panel").is_visible()
        covered = {bot: reached for bot, _, reached in page.evaluate(LAUNCHERS_JS)}
        assert not covered[upper[0]]  # under the open panel
        assert problems == []
