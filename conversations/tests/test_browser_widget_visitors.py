"""The widget as a customer's visitors meet it, in headless Chromium against the real ASGI app
(uvicorn process, test database, the stub model streaming token by token), embedded with the
README's one script tag on a page of another origin whose key allows it: screen readers hear each
answer once (not every token), keyboard-only use keeps the focus in the widget, focus rings show,
a visitor reading back up keeps their place while an answer streams (at 360 px), citation
sources are never javascript: links, and a connection dropped mid-answer is explained.
The host page's side: test_browser_widget_hosts.py.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from urllib.parse import urlparse

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    ACTIVE_JS,
    DEMO_DOCS,
    QUESTION,
    REPLY,
    WIDGET,
    ask_widget,
    assert_partial_kept_then_recovers,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page
from conversations.tests.tcp_faults import faulty_proxy
from datasets.models import Document

pytestmark = BROWSER_TEST_MARKS


# Every element that a screen reader treats as a live region, and the texts each one held.
LIVE_JS = f"""() => {{
  const root = document.querySelector('{WIDGET}').shadowRoot;
  window.__cbLive = [];
  const live = (node) => {{
    const value = node.getAttribute('aria-live');
    if (value) return value !== 'off';
    return ['log', 'status', 'alert', 'marquee', 'timer'].includes(node.getAttribute('role'));
  }};
  window.__cbLiveRegions = () => [...root.querySelectorAll('*')].filter(live);
  new MutationObserver(() => {{
    for (const region of window.__cbLiveRegions()) {{
      const text = region.textContent;
      const seen = window.__cbLive;
      if (text && !(seen.length && seen[seen.length - 1] === text)) seen.push(text);
    }}
  }}).observe(root, {{subtree: true, childList: true, characterData: true}});
}}"""


def test_screen_readers_hear_each_answer_once_not_every_token(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """The conversation was a polite live region (role=log, additions text): each of the many
    re-renders of a streaming answer was queued for reading aloud."""
    openai_stub.script = Script(reply=REPLY, token_delay=0.02)
    url = site_page(third_party_site, streaming_app, tenant, "spoken")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").click()
        page.evaluate(LIVE_JS)
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
        inside_live = page.evaluate(
            """() => window.__cbLiveRegions().filter(
                 (r) => r.querySelector('.cb-msg--assistant:not(.cb-msg--greeting)')).length"""
        )
        assert inside_live == 0, "the streamed answer sits inside a live region"
        spoken = page.evaluate("window.__cbLive")
        assert len(spoken) == 1, spoken
        assert spoken[0].startswith("Assistant: You add the widget with one script tag")
        assert "**" not in spoken[0]

        # A failure is announced as the sentence the panel shows.
        openai_stub.script = Script(reply="unused", status=500)
        shadow(page, "textarea").fill("And the rate limits?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        spoken = page.evaluate("window.__cbLive")
        assert len(spoken) == 2, spoken
        assert spoken[1] == shadow(page, ".cb-status").last.text_content()
        assert "cannot answer right now" in spoken[1]
        assert problems == []


def test_keyboard_only_visitor_keeps_the_focus_in_the_widget(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """Sending with the Send button (Tab, Enter) hid the focused button while the answer
    streamed: the focus fell to the host page's body, and Escape no longer closed the panel."""
    openai_stub.script = Script(reply=REPLY, token_delay=0.02)
    url = site_page(third_party_site, streaming_app, tenant, "keys")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").wait_for()
        page.keyboard.press("Tab")
        assert page.evaluate(ACTIVE_JS) == "cb-launcher"
        page.keyboard.press("Enter")
        assert page.evaluate(ACTIVE_JS) == "cb-input"
        page.keyboard.type(QUESTION)
        page.keyboard.press("Tab")
        assert page.evaluate(ACTIVE_JS) == "cb-send"
        page.keyboard.press("Enter")
        assert page.evaluate(ACTIVE_JS) == "cb-input"
        wait_widget_answer(page, 1)
        assert "one script tag" in shadow(page, ".cb-bubble").last.text_content()

        # Stop with the keyboard: the focus comes back to the input too.
        openai_stub.script = Script(reply="slow " * 200, token_delay=0.02)
        page.keyboard.type("Tell me more.")
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.evaluate(ACTIVE_JS) == "cb-stop"
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        assert shadow(page, ".cb-status").last.text_content() == "Stopped."
        assert page.evaluate(ACTIVE_JS) == "cb-input"

        page.keyboard.press("Escape")
        assert not shadow(page, ".cb-panel").is_visible()
        assert page.evaluate(ACTIVE_JS) == "cb-launcher"
        assert problems == []


# The focused element's outline: its style, width and contrast with what surrounds it (the
# parent's background, or the element's own for an outline drawn inside it).
RING_JS = f"""() => {{
  const root = document.querySelector('{WIDGET}').shadowRoot;
  const node = root.activeElement;
  const rgb = (c) => {{
    const v = c.match(/[\\d.]+/g).map(Number);
    return c.startsWith('color(') ? v.map((x, i) => (i < 3 ? x * 255 : x)) : v;
  }};
  const lum = ([r, g, b]) => {{
    const f = (v) => {{
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    }};
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  }};
  const background = (el) => {{
    for (; el && el.nodeType === 1; el = el.parentNode || el.host) {{
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }}
    return [255, 255, 255];
  }};
  const style = getComputedStyle(node);
  const inside = parseFloat(style.outlineOffset) < 0;
  const [a, b] = [lum(rgb(style.outlineColor)), lum(background(inside ? node : node.parentNode))];
  const ratio = Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100;
  return [node.className, style.outlineStyle, parseFloat(style.outlineWidth), ratio];
}}"""


def test_focus_rings_are_visible_against_their_surroundings(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """The ring was a light tint of the accent (2.3:1 on white, 2.2:1 on the header's accent;
    WCAG asks 3:1 of what shows a state), and the message input had none (outline: none)."""
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    url = site_page(third_party_site, streaming_app, tenant, "rings")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").wait_for()
        page.keyboard.press("Tab")
        rings = [page.evaluate(RING_JS)]
        page.keyboard.press("Enter")
        rings.append(page.evaluate(RING_JS))
        for _ in range(3):  # the conversation, Close, New conversation
            page.keyboard.press("Shift+Tab")
            rings.append(page.evaluate(RING_JS))
        for _ in range(4):  # back to the input, then Send
            page.keyboard.press("Tab")
        rings.append(page.evaluate(RING_JS))
        names = [ring[0] for ring in rings]
        assert names == [
            "cb-launcher", "cb-input", "cb-messages", "cb-icon-btn cb-close",
            "cb-icon-btn cb-new", "cb-send",
        ]  # fmt: skip
        for name, outline, width, ratio in rings:
            assert outline == "solid", (name, outline)
            assert width >= 2, (name, width)
            assert ratio >= 3, rings
        assert problems == []


def test_a_visitor_reading_back_keeps_their_place_while_an_answer_streams(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """Every re-render of a streaming answer scrolled the conversation to its end, pulling a
    visitor who had scrolled up to read back down many times a second."""
    long_reply = "\n\n".join(f"Paragraph {i}: " + "words of a long answer " * 6 for i in range(60))
    openai_stub.script = Script(reply=long_reply, token_delay=0.004)
    url = site_page(third_party_site, streaming_app, tenant, "reader")
    with new_page(browser, {"width": 360, "height": 640}) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").click()
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        log = shadow(page, ".cb-messages")
        page.wait_for_function(
            f"""() => {{ const log = document.querySelector('{WIDGET}').shadowRoot
                           .querySelector('.cb-messages');
                        return log.scrollHeight > log.clientHeight + 600; }}"""
        )
        assert shadow(page, ".cb-streaming").count() == 1
        log.evaluate("log => { log.scrollTop = 100; }")
        page.wait_for_timeout(600)
        assert shadow(page, ".cb-streaming").count() == 1, "the answer finished too soon"
        assert log.evaluate("log => log.scrollTop") == 100
        wait_widget_answer(page, 1, timeout=30_000)
        assert log.evaluate("log => log.scrollTop") == 100
        # No sideways scrolling at 360 px, even with a long answer.
        assert log.evaluate("log => log.scrollWidth <= log.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") == 360

        # The next question brings the conversation to its end again, and keeps following.
        openai_stub.script = Script(reply="A short answer.", token_delay=0)
        shadow(page, "textarea").fill("Anything else?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        assert log.evaluate("log => log.scrollHeight - log.scrollTop - log.clientHeight") < 2
        assert problems == []


def test_citation_sources_are_never_script_links(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """A document's title, snippet and source address come from whoever wrote the document."""
    docs = {'<img src=x onerror="window.__cbXss=1">Guide': DEMO_DOCS["Getting started"]}
    openai_stub.script = Script(reply="See [1] and [this](javascript:window.__cbXss=2).")
    url = site_page(third_party_site, streaming_app, tenant, "sources", docs=docs)
    Document.objects.filter(title__endswith="Guide").update(
        source_url="javascript:window.__cbXss=3//https://example.com/"
    )
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        ask_widget(page, QUESTION)
        shadow(page, ".cb-ref").first.click()  # the [1] in the answer opens chip 1
        detail = shadow(page, ".cb-cite-detail")
        assert detail.is_visible()
        assert '<img src=x onerror="window.__cbXss=1">Guide' in detail.text_content()
        assert "javascript:" in shadow(page, ".cb-cite-source").text_content()  # as text
        hrefs = page.evaluate(
            f"""() => [...document.querySelector('{WIDGET}').shadowRoot.querySelectorAll('[href]')]
                  .map((a) => a.getAttribute('href'))"""
        )
        assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
        assert page.evaluate("window.__cbXss") is None
        assert problems == []


def test_a_connection_dropped_mid_answer_is_explained_and_the_next_question_works(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    proxy, armed = faulty_proxy(urlparse(streaming_app.base_url).port, "drop")
    url = site_page(third_party_site, streaming_app, tenant, "dropped")
    page_html = third_party_site.pages["/dropped.html"]
    third_party_site.pages["/dropped.html"] = page_html.replace(
        "data-bot=", f'data-api="{proxy}" data-bot='
    )
    openai_stub.script = Script(reply="word " * 100, token_delay=0.02)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        armed.set()
        ask_widget(page, QUESTION)
        assert_partial_kept_then_recovers(
            page, openai_stub, "The connection was lost before the answer finished.", answers=2
        )
        assert problems == []


PHONE_360 = {"width": 360, "height": 640}


def test_on_a_phone_the_full_screen_panel_keeps_tab_inside(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """At 360 px the open panel covers the page and hides its launcher: Tab went on from the
    Send button to the page's own links underneath, focused out of sight (WCAG 2.4.11)."""
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    links = '<p><a href="#a">A page link</a> <a href="#b">another</a></p>'
    url = site_page(third_party_site, streaming_app, tenant, "phone")
    page_html = third_party_site.pages["/phone.html"]
    third_party_site.pages["/phone.html"] = page_html.replace("</h1>", "</h1>" + links)
    with new_page(browser, PHONE_360) as (page, problems):
        page.goto(url)
        ask_widget(page, QUESTION)
        seen = []
        for key in ["Tab"] * 12 + ["Shift+Tab"] * 12:
            page.keyboard.press(key)
            seen.append(page.evaluate(ACTIVE_JS))
        assert not [name for name in seen if name.startswith("outside")], seen
        assert {"cb-input", "cb-send", "cb-icon-btn cb-close", "cb-chip"} <= set(seen), seen
        assert shadow(page, ".cb-panel").get_attribute("aria-modal") == "true"
        page.keyboard.press("Escape")
        assert page.evaluate(ACTIVE_JS) == "cb-launcher"
        assert problems == []
