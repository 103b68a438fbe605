"""Untrusted text rendered safely, in headless Chromium against the real ASGI app (uvicorn
process, test database): document markup quoted by the bot shows as text in the widget (themed by
its host page) and in the playground, and the widget's Markdown renderer and SSE parser, called on
a page that only loads widget.js, build only safe DOM.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.services import api_key_create
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import QUESTION, WIDGET, ask_widget, shadow
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    library_page,
    new_page,
    widget_page,
)
from conversations.tests.conftest import build_kb

pytestmark = BROWSER_TEST_MARKS


XSS_DOCS = {
    "Markup sample": [
        "The sanitiser note says <img src=x onerror=\"window.__cbXss='img'\"> must be shown as "
        "text. The sanitiser note also says <script>window.__cbXss='script'</script> must never "
        "run in the widget.",
    ],
}
XSS_QUESTION = "What does the sanitiser note say must be shown as text?"


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
        ask_widget(page, XSS_QUESTION)
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
    # A list or quote runs the way most of its items read (markdown.js majorityDirection).
    ("- one\n- two", '<ul dir="ltr"><li>one</li><li>two</li></ul>'),
    ("3. three\n4. four", '<ol start="3" dir="ltr"><li>three</li><li>four</li></ol>'),
    ("- 1\n- 2", '<ul dir="auto"><li>1</li><li>2</li></ul>'),  # no letter: the first's way
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
    ("> quoted", '<blockquote dir="ltr"><p>quoted</p></blockquote>'),
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


def test_markdown_renderer_caps_nesting_and_a_deep_answer_still_finishes(
    browser, streaming_app, demo, openai_stub
):
    """Thousands of ">" (a model can be asked to write them) overflowed the call stack: the
    answer never showed and the widget stayed busy. Quotes now nest 8 deep, the rest is text."""
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(streaming_app.base_url + "/demo/")
        page.wait_for_function("() => !!window.ChatbotWidget")
        depths = page.evaluate(
            """() => {
              const depth = (node, tag) => {
                let most = 0;
                for (const child of node.children) most = Math.max(most, depth(child, tag));
                return most + (node.tagName === tag ? 1 : 0);
              };
              const render = (src) => {
                const out = document.createElement('div');
                window.ChatbotWidget.renderMarkdown(src, out);
                return out;
              };
              const quotes = render('>'.repeat(20000) + ' deep');
              const spaced = render('> '.repeat(20000) + 'deep');
              return [depth(quotes, 'BLOCKQUOTE'), quotes.textContent.endsWith('deep'),
                      depth(spaced, 'BLOCKQUOTE'), spaced.textContent.endsWith('deep')];
            }"""
        )
        assert depths == [8, True, 8, True]

        # In the widget: the deep answer streams, ends, and the widget takes the next question.
        openai_stub.script = Script(reply="> " * 3000 + "deep end", token_delay=0)
        ask_widget(page, QUESTION)
        answer = shadow(page, ".cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble").last
        assert answer.text_content().endswith("deep end")
        assert shadow(page, ".cb-send").is_visible()
        assert not shadow(page, ".cb-stop").is_visible()
        assert problems == []
