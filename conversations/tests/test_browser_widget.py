"""The chat widget in headless Chromium against the real ASGI app (uvicorn process, test
database): on the demo page (streaming, citations, reload, stop, keyboard, phone layout), refused
on a disallowed origin, explaining rate limits and unusable keys; and the demo page's own answer
when no demo key is configured.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing;
screenshots land in ``artifacts/screenshots/``). Run them all with
``pytest conversations/tests/test_browser_*.py``.
"""

from __future__ import annotations

import json
import re

import httpx

from apikeys.services import api_key_create
from conversations.models import Conversation, Message
from conversations.tests.browser_demo import (
    DEMO_DOCS,
    QUESTION,
    REPLY,
    WIDGET,
    ask_widget,
    partial_states,
    send_widget,
    shadow,
    stored_conversation_id,
    wait_for_row,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    OBSERVE_JS,
    PHONE,
    new_page,
    screenshot,
    widget_page,
)
from conversations.tests.conftest import build_kb

pytestmark = BROWSER_TEST_MARKS


def test_demo_page_widget_streams_cites_and_survives_reload(browser, streaming_app, demo):
    kb, _, _ = demo
    with new_page(browser, DESKTOP) as (page, problems):
        res = page.goto(streaming_app.base_url + "/demo/")
        assert res.status == 200
        csp = res.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert res.headers["x-frame-options"] == "DENY"

        launcher = shadow(page, ".cb-launcher")
        assert launcher.get_attribute("aria-label").startswith("Open chat")
        launcher.click()
        panel = shadow(page, ".cb-panel")
        assert panel.is_visible()
        assert panel.get_attribute("role") == "dialog"
        assert launcher.get_attribute("aria-expanded") == "true"
        # Focus moved into the panel's input.
        assert (
            page.evaluate(f"document.querySelector('{WIDGET}').shadowRoot.activeElement.id")
            == "cb-input"
        )

        page.evaluate(OBSERVE_JS, [WIDGET, ".cb-msg--assistant .cb-bubble"])
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)

        answer = shadow(page, ".cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble").last
        final_text = answer.text_content()
        assert "one script tag" in final_text, shadow(page, ".cb-messages").text_content()
        assert "**" not in final_text  # Markdown rendered
        assert shadow(page, ".cb-msg--assistant strong").first.text_content() == "one script tag"
        assert shadow(page, ".cb-msg--assistant li").count() >= 2
        partials = partial_states(page)
        assert len(set(partials)) >= 2, f"streamed text was not seen growing: {partials!r}"

        chips = shadow(page, ".cb-chip")
        assert chips.count() >= 1
        titles = [chips.nth(i).text_content() for i in range(chips.count())]
        assert any("Getting started" in t for t in titles), titles
        chips.first.click()
        detail = shadow(page, ".cb-cite-detail")
        assert detail.is_visible()
        assert "script tag" in detail.text_content() or "Browser keys" in detail.text_content()
        screenshot(page, "widget-desktop")

        stored = page.evaluate(
            "Object.entries(localStorage).filter(([k]) => k.startsWith('chatbot:v1:http'))"
        )
        assert len(stored) == 1
        state = json.loads(stored[0][1])
        end_user = page.evaluate("localStorage.getItem('chatbot:v1:user')")
        conversation = Conversation.objects.get(id=state["conversationId"])
        assert conversation.bot_id == kb.bot.id
        assert conversation.user == end_user
        assert conversation.message_count == 2

        # A reload shows the same conversation, and a follow-up continues it.
        page.reload()
        shadow(page, ".cb-launcher").click()
        assert QUESTION in shadow(page, ".cb-msg--user").first.text_content()
        restored = shadow(page, ".cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble").first
        assert restored.text_content() == final_text
        assert shadow(page, ".cb-chip").count() == len(titles)
        shadow(page, "textarea").fill("What rate limit applies to a browser key?")
        shadow(page, ".cb-send").click()
        wait_widget_answer(page, 2)
        conversation.refresh_from_db()
        assert conversation.message_count == 4
        assert Conversation.objects.count() == 1

        # Stop aborts the stream; the server records the answer as cancelled.
        page.evaluate(OBSERVE_JS, [WIDGET, ".cb-msg--assistant .cb-bubble"])
        shadow(page, "textarea").fill("Tell me about browser keys.")
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.__cbStates.length >= 1")
        shadow(page, ".cb-stop").click()
        wait_widget_answer(page, 3)
        assert shadow(page, ".cb-status").last.text_content() == "Stopped."
        assert shadow(page, ".cb-send").is_visible()
        last = wait_for_row(
            lambda: Message.objects.filter(role="assistant", finish_reason="cancelled").first()
        )
        assert last.conversation_id == conversation.id
        assert len(last.content) < len(REPLY)

        # Esc closes the panel and gives focus back to the launcher.
        shadow(page, "textarea").press("Escape")
        assert not shadow(page, ".cb-panel").is_visible()
        assert (
            page.evaluate(f"document.querySelector('{WIDGET}').shadowRoot.activeElement.className")
            == "cb-launcher"
        )
        assert problems == []

    with new_page(browser, PHONE) as (page, problems):
        page.goto(streaming_app.base_url + "/demo/")
        ask_widget(page, QUESTION)
        box = shadow(page, ".cb-panel").bounding_box()
        assert box["width"] == PHONE["width"]
        assert box["height"] == PHONE["height"]
        # 16px or more, or iOS Safari zooms the host page in when the input is focused.
        size = shadow(page, "textarea").evaluate("t => getComputedStyle(t).fontSize")
        assert float(size.removesuffix("px")) >= 16, size
        screenshot(page, "widget-phone")
        assert problems == []


def test_widget_on_a_disallowed_origin_is_refused_with_a_clear_message(
    browser, streaming_app, third_party_site, demo
):
    _, browser_key, _ = demo  # allows only the app's own origin
    third_party_site.pages["/elsewhere.html"] = widget_page(
        app_url=streaming_app.base_url, bot="demo", key=browser_key, title="Not an allowed site"
    )
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/elsewhere.html"))
        ask_widget(page, QUESTION)
        status = shadow(page, ".cb-msg--error .cb-status")
        message = status.text_content()
        assert "not allowed to use this chatbot" in message
        assert third_party_site.base_url in message
        screenshot(page, "widget-refused-desktop")
        assert Conversation.objects.count() == 0
        assert problems == []

    # The server check behind it: the same request with that Origin is a 403 with a sentence.
    res = httpx.post(
        streaming_app.base_url + "/v1/chat",
        json={"bot": "demo", "message": QUESTION},
        headers={"Authorization": f"Bearer {browser_key}", "Origin": third_party_site.base_url},
    )
    assert res.status_code == 403
    assert res.json()["error"]["type"] == "permission_denied"
    assert "access-control-allow-origin" not in res.headers


def test_demo_page_explains_how_to_configure_without_a_demo_key(live_app, tenant):
    live_app.demo_key_file.unlink(missing_ok=True)
    live_app.seeded_key_file.unlink(missing_ok=True)
    res = httpx.get(live_app.base_url + "/demo/")
    assert res.status_code == 503
    assert "seed_demo" in res.text
    assert "widget.js" not in res.text

    # seed_demo's key can also read: with DEBUG off it is never put on the public page.
    _, reader = api_key_create(tenant=tenant, name="seeded", permissions=["chat", "read"])
    live_app.seeded_key_file.write_text(reader + "\n")
    try:
        res = httpx.get(live_app.base_url + "/demo/")
    finally:
        live_app.seeded_key_file.unlink()
    assert res.status_code == 503
    assert reader not in res.text
    assert "can do more than chat" in res.text
    assert "demo_widget_key" in res.text
    index = httpx.get(live_app.base_url + "/")
    assert index.status_code == 200
    for link in ('href="/playground/"', 'href="/demo/"', 'href="/docs"', 'href="/admin/"'):
        assert link in index.text
    asset = httpx.get(live_app.base_url + "/static/chatbot/widget.js")
    assert asset.status_code == 200
    assert "javascript" in asset.headers["content-type"]
    assert ".innerHTML" not in asset.text


def test_widget_explains_rate_limits_and_unusable_keys(browser, live_app, third_party_site, tenant):
    kb = build_kb(tenant, slug="limited", docs=DEMO_DOCS)
    _, key = api_key_create(
        tenant=tenant,
        name="limited widget",
        permissions=["chat"],
        bots=[kb.bot],
        allowed_origins=[third_party_site.base_url],
        rate_limit="1/m",
    )
    third_party_site.pages["/limited.html"] = widget_page(
        app_url=live_app.base_url, bot="limited", key=key
    )
    third_party_site.pages["/badkey.html"] = widget_page(
        app_url=live_app.base_url, bot="limited", key="cb_" + "x" * 48
    )
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/limited.html"))
        ask_widget(page, QUESTION)
        shadow(page, "textarea").fill("And the rate limits?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        message = shadow(page, ".cb-msg--error .cb-status").text_content()
        # Not "you are sending too quickly": the key's limit is shared by all the site's visitors.
        assert "This chat is receiving too many messages right now." in message
        assert re.search(r"wait \d+ seconds?", message), message

        page.goto(third_party_site.url("/badkey.html"))  # (same site and bot: same transcript)
        send_widget(page, QUESTION)
        wait_widget_answer(page, 3)
        message = shadow(page, ".cb-msg--error .cb-status").last.text_content()
        assert "key is no longer valid" in message
        assert problems == []


CONTRAST_JS = """([sel, targets]) => {
  const root = document.querySelector(sel).shadowRoot;
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (; node && node.nodeType === 1; node = node.parentNode || node.host) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return targets.map((t) => {
    const node = root.querySelector(t);
    const [a, b] = [lum(rgb(getComputedStyle(node).color)), lum(background(node))];
    return [t, Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100];
  });
}"""


def test_widget_small_texts_meet_the_contrast_minimum(browser, streaming_app, demo):
    """WCAG AA asks 4.5:1 for text this small; the footnote was #94a3b8 on white (2.56:1), the
    [n] citation numbers in answers the accent on a light accent tint (4.24:1)."""
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(streaming_app.base_url + "/demo/")
        ask_widget(page, QUESTION)
        targets = [".cb-footnote", ".cb-chips-label", ".cb-title", ".cb-msg--greeting .cb-bubble"]
        targets += [".cb-ref", ".cb-chip-n"]  # the 11px citation numbers (in and under answers)
        ratios = page.evaluate(CONTRAST_JS, [WIDGET, targets])
        assert all(ratio >= 4.5 for _, ratio in ratios), ratios
        assert problems == []


def test_widget_loads_on_a_site_with_a_cross_origin_embedder_policy(
    browser, live_app, third_party_site, tenant
):
    """WhiteNoise serves /static/ before the widget's own view (which set the header), so under
    `Cross-Origin-Embedder-Policy: require-corp` the browser blocked widget.js and widget.css."""
    kb = build_kb(tenant, slug="isolated", docs=DEMO_DOCS)
    _, key = api_key_create(
        tenant=tenant, name="coep site", permissions=["chat"], bots=[kb.bot],
        allowed_origins=[third_party_site.base_url],
    )  # fmt: skip
    third_party_site.pages["/coep.html"] = widget_page(
        app_url=live_app.base_url, bot="isolated", key=key
    )
    third_party_site.headers["/coep.html"] = {
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/coep.html"))
        ask_widget(page, QUESTION)
        answer = shadow(page, ".cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble").last
        assert "script tag" in answer.text_content()
        assert shadow(page, ".cb-send").evaluate("b => getComputedStyle(b).borderRadius") == "12px"
        assert problems == []
    for name in ("widget.js", "widget.css"):
        res = httpx.get(f"{live_app.base_url}/static/chatbot/{name}")
        assert res.headers["cross-origin-resource-policy"] == "cross-origin"


def test_a_wrong_data_scope_does_not_lose_the_visitors_conversation(
    browser, live_app, third_party_site, tenant
):
    """A 404 with a stored conversation made the widget drop it and retry without it; when the
    retry failed too (the 404 was the scope's, a typo in data-scope), the conversation was lost."""
    kb = build_kb(tenant, slug="scoped", docs=DEMO_DOCS)
    _, key = api_key_create(
        tenant=tenant, name="scoped site", permissions=["chat"], bots=[kb.bot],
        allowed_origins=[third_party_site.base_url],
    )  # fmt: skip
    third_party_site.pages["/good.html"] = widget_page(
        app_url=live_app.base_url, bot="scoped", key=key
    )
    third_party_site.pages["/typo.html"] = third_party_site.pages["/good.html"].replace(
        'data-bot="scoped"', 'data-bot="scoped" data-scope="no-such-scope"'
    )
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/good.html"))
        ask_widget(page, QUESTION)
        conversation_id = stored_conversation_id(page, "scoped")
        assert Conversation.objects.filter(id=conversation_id).exists()

        page.goto(third_party_site.url("/typo.html"))
        ask_widget(page, "And the rate limits?")
        message = shadow(page, ".cb-msg--error .cb-status").text_content()
        assert "No such scope" in message
        assert stored_conversation_id(page, "scoped") == conversation_id
        assert problems == []
