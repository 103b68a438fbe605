# ruff: noqa: F811 - pytest fixtures imported from browser_fixtures are parameters here
"""The widget and the playground in headless Chromium against the real ASGI app (uvicorn process,
test database, offline extractive provider, real local embeddings).

Run alone: ``pytest conversations/tests/test_browser.py``; screenshots land in
``artifacts/screenshots/``. Skipped with a message when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from apikeys.services import api_key_create
from chatbot_project.testing.openai_stub import Script
from conversations.models import Conversation, Message
from conversations.tests.browser_fixtures import (  # noqa: F401 - fixtures
    DESKTOP,
    OBSERVE_JS,
    PHONE,
    browser,
    library_page,
    live_app,
    new_page,
    screenshot,
    streaming_app,
    third_party_site,
    widget_page,
)
from conversations.tests.conftest import build_kb

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]

DEMO_DOCS = {
    "Getting started": [
        "The widget is added to a page with one script tag. It opens a chat panel in the corner "
        "of the page. Answers stream in word by word and cite their sources as numbered chips.",
        "Browser keys have only the chat permission. A browser key is restricted to one bot and "
        "to the allowed origins of the site that embeds the widget.",
    ],
    "Rate limits": [
        "Every browser key has a rate limit per minute. The widget sends an anonymous end user id "
        "so that the limit applies per visitor as well as per key.",
    ],
}
QUESTION = "How is the widget added to a page and how do answers stream?"
# What the stub model streams, one token every 25 ms (about 1.5 s in all).
REPLY = (
    "You add the widget with **one script tag** [1]. It opens a chat panel in the corner of the "
    "page, and answers stream in word by word with their sources as numbered chips [1].\n\n"
    "- Browser keys have only the `chat` permission [1]\n"
    "- Each key has a rate limit per minute [2]"
)

XSS_DOCS = {
    "Markup sample": [
        "The sanitiser note says <img src=x onerror=\"window.__cbXss='img'\"> must be shown as "
        "text. The sanitiser note also says <script>window.__cbXss='script'</script> must never "
        "run in the widget.",
    ],
}
XSS_QUESTION = "What does the sanitiser note say must be shown as text?"

WIDGET = "chatbot-widget"


def shadow(page, selector: str):
    """Playwright CSS selectors pierce open shadow roots."""
    return page.locator(f"{WIDGET} {selector}")


def wait_widget_answer(page, count: int, timeout: float = 20_000) -> None:
    """Wait until `count` answers (not counting the greeting) finished streaming."""
    page.wait_for_function(
        """([sel, n]) => {
          const root = document.querySelector(sel)?.shadowRoot;
          if (!root) return false;
          const done = root.querySelectorAll('.cb-msg--assistant:not(.cb-msg--greeting)'
                                             + ':not(.cb-streaming)');
          return done.length >= n && !root.querySelector('.cb-streaming');
        }""",
        arg=[WIDGET, count],
        timeout=timeout,
    )


def partial_states(page) -> list[str]:
    states = page.evaluate("window.__cbStates || []")
    final = states[-1] if states else ""
    return [s for s in states if s != final and len(s) < len(final)]


def wait_for_row(query, timeout: float = 5.0):
    """Poll the database until `query()` returns a row (the server saves asynchronously)."""
    deadline = time.monotonic() + timeout
    while (row := query()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert row is not None, "the row did not appear in time"
    return row


@pytest.fixture
def demo(tenant, streaming_app, openai_stub):
    """The demo bot, its browser key (chat only, this bot, the app's own origin) written where
    /demo/ reads it, a staff key (chat + read) for the playground, and the stub model's reply."""
    openai_stub.script = Script(reply=REPLY, token_delay=0.025)
    kb = build_kb(tenant, slug="demo", docs=DEMO_DOCS)
    _, browser_key = api_key_create(
        tenant=tenant,
        name="demo widget",
        permissions=["chat"],
        bots=[kb.bot],
        allowed_origins=[streaming_app.base_url],
        rate_limit="100/m",
    )
    _, staff_key = api_key_create(tenant=tenant, name="playground", permissions=["chat", "read"])
    streaming_app.demo_key_file.write_text(browser_key + "\n")
    yield kb, browser_key, staff_key
    streaming_app.demo_key_file.unlink(missing_ok=True)


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
        shadow(page, ".cb-launcher").click()
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
        box = shadow(page, ".cb-panel").bounding_box()
        assert box["width"] == PHONE["width"]
        assert box["height"] == PHONE["height"]
        screenshot(page, "widget-phone")
        assert problems == []


def test_playground_streams_cites_shows_chunks_and_records_feedback(browser, streaming_app, demo):
    _, _, staff_key = demo
    with new_page(browser, DESKTOP) as (page, problems):
        res = page.goto(streaming_app.base_url + "/playground/")
        assert "script-src 'self'" in res.headers["content-security-policy"]
        screenshot(page, "playground-signin-desktop")
        page.fill("#pg-key", staff_key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        assert page.eval_on_selector("#pg-bot", "s => s.value") == "demo"
        # The key is kept only in sessionStorage.
        assert page.evaluate("sessionStorage.getItem('chatbot:playground:key')") == staff_key
        assert staff_key not in json.dumps(page.evaluate("Object.values(localStorage)"))

        page.evaluate(OBSERVE_JS, ["#playground", ".pg-msg-assistant .pg-bubble"])
        page.fill("#pg-input", QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])")
        assert len(set(partial_states(page))) >= 2, page.evaluate("window.__cbStates")

        answer = page.locator(".pg-msg-assistant .pg-bubble").last.text_content()
        assert "one script tag" in answer
        cites = page.locator(".pg-cite")
        assert cites.count() >= 1
        first = cites.first
        assert first.locator(".pg-cite-title").text_content() in DEMO_DOCS
        assert float(first.locator(".pg-score").text_content()) > 0
        assert first.locator(".pg-cite-snippet").text_content()
        page.wait_for_selector(".pg-chunk")
        assert page.locator(".pg-chunk").count() >= 1
        timings = page.locator("#pg-timings").text_content()
        assert re.search(r"First token[\d.]+ m?s", timings), timings
        assert re.search(r"Retrieval \(client\)[\d.]+ m?s", timings), timings

        page.click(".pg-fb-up")
        page.wait_for_selector(".pg-status-ok")
        assistant = Message.objects.get(role="assistant")
        assert assistant.feedback_rating == "up"
        assert page.locator(".pg-fb-up").get_attribute("aria-pressed") == "true"
        screenshot(page, "playground-desktop")

        # Past conversations: after a reload (key still in the tab) the conversation is listed
        # and opens with its feedback.
        page.reload()
        page.wait_for_selector(".pg-conv")
        page.click(".pg-conv")
        page.wait_for_selector(".pg-msg-assistant")
        assert page.locator(".pg-msg-assistant .pg-fb-up").get_attribute("aria-pressed") == "true"
        page.click(".pg-fb-down")
        page.wait_for_selector(".pg-status-ok")
        assistant.refresh_from_db()
        assert assistant.feedback_rating == "down"

        page.click("#pg-new")
        assert page.locator(".pg-msg-assistant").count() == 0
        assert problems == []

    with new_page(browser, PHONE) as (page, problems):
        page.goto(streaming_app.base_url + "/playground/")
        screenshot(page, "playground-signin-phone")
        page.fill("#pg-key", staff_key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        page.fill("#pg-input", QUESTION)
        page.click("#pg-send")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])")
        page.wait_for_selector(".pg-chunk")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the playground scrolls sideways on a phone"
        screenshot(page, "playground-phone", full_page=True)
        assert problems == []


def test_document_markup_quoted_by_the_bot_renders_as_text(
    browser, live_app, third_party_site, tenant
):
    kb = build_kb(tenant, slug="markup", docs=XSS_DOCS)
    _, key = api_key_create(
        tenant=tenant,
        name="site widget",
        permissions=["chat"],
        bots=[kb.bot],
        allowed_origins=[third_party_site.base_url],
    )
    third_party_site.pages["/markup.html"] = widget_page(
        app_url=live_app.base_url,
        bot="markup",
        key=key,
        # The host page themes the widget through its CSS variables.
        head="<style>:root { --cb-accent: #0f766e; }</style>",
    )
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/markup.html"))
        shadow(page, ".cb-launcher").click()
        shadow(page, "textarea").fill(XSS_QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
        shadow(page, ".cb-chip").first.click()
        page.wait_for_timeout(300)  # time for an injected onerror handler to have fired

        answer = shadow(page, ".cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble").last
        text = answer.text_content()
        assert "<img src=x onerror=" in text
        assert "<script>window.__cbXss='script'</script>" in text
        snippet = shadow(page, ".cb-cite-snippet").text_content()
        assert "<img src=x" in snippet
        assert page.evaluate("window.__cbXss") is None
        counts = page.evaluate(
            f"""() => {{
              const root = document.querySelector('{WIDGET}').shadowRoot;
              return [root.querySelectorAll('.cb-messages img, .cb-messages script').length,
                      document.querySelectorAll('img, script').length];
            }}"""
        )
        assert counts == [0, 1]  # nothing injected; the page's one script is the widget tag
        accent = shadow(page, ".cb-send").evaluate("b => getComputedStyle(b).backgroundColor")
        assert accent == "rgb(15, 118, 110)"
        assert problems == []

    # The playground shows the same answer and citations as text too.
    _, staff_key = api_key_create(tenant=tenant, name="staff", permissions=["chat", "read"])
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(live_app.base_url + "/playground/")
        page.fill("#pg-key", staff_key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        page.select_option("#pg-bot", "markup")
        page.fill("#pg-input", XSS_QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])")
        page.wait_for_selector(".pg-chunk")
        assert "<img src=x onerror=" in page.locator(".pg-msg-assistant .pg-bubble").text_content()
        assert "<script>" in page.locator(".pg-cite-snippet").first.text_content()
        assert "<script>" in page.locator(".pg-chunk-text").first.text_content()
        assert page.locator("#playground img, #playground script").count() == 0
        assert page.evaluate("window.__cbXss") is None
        assert problems == []


MARKDOWN_CASES = [
    (
        "**bold** and *em* and `x < y`",
        "<p><strong>bold</strong> and <em>em</em> and <code>x &lt; y</code></p>",
    ),
    ("- one\n- two", "<ul><li>one</li><li>two</li></ul>"),
    ("3. three\n4. four", '<ol start="3"><li>three</li><li>four</li></ol>'),
    (
        "```js\n<b>alert(1)</b>\n```",
        '<pre><code data-lang="js">&lt;b&gt;alert(1)&lt;/b&gt;</code></pre>',
    ),
    (
        "[docs](https://example.com/a?b=1&c=2)",
        '<p><a href="https://example.com/a?b=1&amp;c=2" target="_blank"'
        ' rel="noopener noreferrer nofollow">docs</a></p>',
    ),
    ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
    ("[x](data:text/html,hi)", "<p>[x](data:text/html,hi)</p>"),
    (
        '<a href="javascript:alert(1)">x</a>',
        '<p>&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;</p>',
    ),
    ("## Title\ntext", '<h4 class="md-h">Title</h4><p>text</p>'),
    ("line one\nline two", "<p>line one<br>line two</p>"),
    ("> quoted", "<blockquote><p>quoted</p></blockquote>"),
]


def test_markdown_renderer_builds_only_safe_dom(browser, live_app, third_party_site):
    third_party_site.pages["/lib.html"] = library_page(app_url=live_app.base_url)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/lib.html"))
        page.wait_for_function("() => !!window.ChatbotWidget")
        assert page.locator("chatbot-widget").count() == 0  # no data-bot: nothing mounted
        for source, expected in MARKDOWN_CASES:
            html = page.evaluate(
                """(src) => {
                  const out = document.createElement('div');
                  window.ChatbotWidget.renderMarkdown(src, out);
                  return out.innerHTML;
                }""",
                source,
            )
            assert html == expected, source
        # SSE parsing across arbitrary chunk boundaries, comments and CRLF.
        events = page.evaluate(
            r"""() => {
              const seen = [];
              const feed = window.ChatbotWidget.createSSEParser((n, d) => seen.push([n, d]));
              const raw = ': ping\r\n\r\nevent: delta\r\ndata: {"text": "a"}\r\n\r\n'
                + 'event: end\ndata: {}\n\n';
              for (const ch of raw) feed(ch);
              return seen;
            }"""
        )
        assert events == [["delta", '{"text": "a"}'], ["end", "{}"]]
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
        shadow(page, ".cb-launcher").click()
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
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
        shadow(page, ".cb-launcher").click()
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
        shadow(page, "textarea").fill("And the rate limits?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        message = shadow(page, ".cb-msg--error .cb-status").text_content()
        assert "sending messages too quickly" in message
        assert re.search(r"wait \d+ seconds?", message), message

        page.goto(third_party_site.url("/badkey.html"))
        shadow(page, ".cb-launcher").click()
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
        message = shadow(page, ".cb-msg--error .cb-status").text_content()
        assert "key is no longer valid" in message
        assert problems == []


def test_playground_with_a_verified_staff_session_needs_no_key(browser, live_app, tenant, client):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tenants.tests.factories import MembershipFactory, UserFactory

    build_kb(tenant, slug="helper")
    user = UserFactory(username="staffer", is_staff=True)
    MembershipFactory(user=user, tenant=tenant, role="owner")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    # Signed in without OTP: no credential is handed out.
    client.force_login(user)
    assert b'id="pg-session"' not in client.get("/playground/").content

    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(live_app.base_url + "/admin/login/?next=/playground/")
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        token = f"{code:0{device.digits}d}"
        page.fill("#id_username", "staffer")
        page.fill("#id_password", "correct-horse-battery")
        page.fill("#id_otp_token", token)
        with page.expect_navigation():
            page.click("input[type=submit]")
        if page.locator("#id_otp_device option", has_text="phone").count():
            # django-otp asks to pick the device once it knows the user.
            page.select_option("#id_otp_device", label="phone")
            page.fill("#id_password", "correct-horse-battery")
            page.fill("#id_otp_token", token)
            page.click("input[type=submit]")
        page.wait_for_url(live_app.base_url + "/playground/")
        # The admin's own CSS is not served with DEBUG off (no static server in tests): only the
        # playground's problems count from here on.
        problems.clear()
        page.wait_for_selector("#pg-app:not([hidden])")
        assert "Signed in as staffer" in page.locator("#pg-connected-as").text_content()
        assert page.evaluate("sessionStorage.length") == 0  # nothing stored: the page holds it
        page.fill("#pg-input", "How do I limit anonymous clients per day?")
        page.keyboard.press("Enter")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-down:not([disabled])")
        assert "AnonRateThrottle" in page.locator(".pg-msg-assistant .pg-bubble").text_content()
        page.click(".pg-fb-down")
        page.wait_for_selector(".pg-status-ok")
        assert Message.objects.get(role="assistant").feedback_rating == "down"
        assert Conversation.objects.get().user == "playground"
        assert problems == []
