"""Markdown tables in answers, in headless Chromium: GitHub-style pipe tables (which models write
often) showed as raw pipes; they now render as <table>s built with DOM calls only (cells escaped
as the rest of the answer), scroll sideways in their own box instead of widening the panel, and
while an answer streams its rows appear whole (never a half row, never a table turning back into
text).

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import json

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import QUESTION, shadow, site_page, wait_widget_answer
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    library_page,
    new_page,
    screenshot,
)

pytestmark = BROWSER_TEST_MARKS

RENDER_JS = """(src) => {
  const out = document.createElement('div');
  window.ChatbotWidget.renderMarkdown(src, out);
  return out.innerHTML;
}"""

# (dir: most cells' direction, here left to right; test_browser_rtl_tables.py has the others)
WRAP = '<div class="cb-table" role="region" aria-label="Table" tabindex="0" dir="ltr"><table>'
TABLE_CASES = [
    # Header, alignment row, body; the paragraph before it ends where the table starts.
    (
        "Plans:\n| Plan | Price | Seats |\n| :--- | ---: | :-: |\n"
        "| Free | 0 | 1 |\n| Team | 9 | 10 |",
        "<p>Plans:</p>" + WRAP + "<thead><tr>"
        '<th scope="col" data-align="left">Plan</th><th scope="col" data-align="right">Price</th>'
        '<th scope="col" data-align="center">Seats</th></tr></thead><tbody>'
        '<tr><td data-align="left">Free</td><td data-align="right">0</td>'
        '<td data-align="center">1</td></tr>'
        '<tr><td data-align="left">Team</td><td data-align="right">9</td>'
        '<td data-align="center">10</td></tr></tbody></table></div>',
    ),
    # No outer pipes; short rows padded, long rows cut; "\|" a literal pipe; inline Markdown.
    (
        "a | b\n--- | ---\n`x \\| y` | **bold**\none | two | three\nsolo |\nonly\n\nafter",
        WRAP + '<thead><tr><th scope="col">a</th><th scope="col">b</th></tr></thead><tbody>'
        "<tr><td><code>x | y</code></td><td><strong>bold</strong></td></tr>"
        "<tr><td>one</td><td>two</td></tr><tr><td>solo</td><td></td></tr></tbody></table></div>"
        "<p>only</p><p>after</p>",
    ),
    # Markup in cells is text; links only http(s).
    (
        '| <img src=x onerror="window.__cbXss=1"> | [x](javascript:alert(1)) |\n|---|---|\n'
        "| <script>window.__cbXss=2</script> | [ok](https://example.com/) |",
        WRAP + '<thead><tr><th scope="col">&lt;img src=x onerror="window.__cbXss=1"&gt;</th>'
        '<th scope="col">[x](javascript:alert(1))</th></tr></thead><tbody><tr>'
        "<td>&lt;script&gt;window.__cbXss=2&lt;/script&gt;</td>"
        '<td><a href="https://example.com/" target="_blank" rel="noopener noreferrer nofollow">'
        "ok</a></td></tr></tbody></table></div>",
    ),
    # Not tables: a delimiter row of another width, or none.
    ("| a | b |\n| --- |\n| 1 | 2 |", "<p>| a | b |<br>| --- |<br>| 1 | 2 |</p>"),
    ("| a | b |\n| 1 | 2 |", "<p>| a | b |<br>| 1 | 2 |</p>"),
    # Header and delimiter only: a table without a body.
    ("| a |\n| - |", WRAP + '<thead><tr><th scope="col">a</th></tr></thead></table></div>'),
    # No letter in any cell: the browser's dir=auto; as many cells each way: the first's.
    (
        "| 1 |\n| - |",
        WRAP.replace('"ltr"', '"auto"')
        + '<thead><tr><th scope="col">1</th></tr></thead></table></div>',
    ),
    (
        "| ب | a |\n| - | - |",
        WRAP.replace('"ltr"', '"rtl"') + '<thead><tr><th scope="col">ب</th><th scope="col">a</th>'
        "</tr></thead></table></div>",
    ),
]


def test_pipe_tables_render_as_tables_built_safely(browser, live_app, third_party_site):
    third_party_site.pages["/lib.html"] = library_page(app_url=live_app.base_url)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/lib.html"))
        page.wait_for_function("() => !!window.ChatbotWidget")
        for source, expected in TABLE_CASES:
            assert page.evaluate(RENDER_JS, source) == expected, source
        assert page.evaluate("window.__cbXss") is None

        # Streaming: the last line, still arriving, is held back only when it would be a row.
        streamed = page.evaluate(
            """() => {
              const render = (src) => {
                const out = document.createElement('div');
                window.ChatbotWidget.renderMarkdown(src, out, {streaming: true});
                return [out.querySelectorAll('table').length, out.querySelectorAll('td').length,
                        out.textContent];
              };
              return [render('| a | b |\\n| --- | -'), render('| a | b |\\n| --- | --- |\\n'),
                      render('| a | b |\\n|---|---|\\n| 1 | 2'),
                      render('| a | b |\\n|---|---|\\n| 1 | 2 |\\n')];
            }"""
        )
        assert streamed == [
            [0, 0, "| a | b || --- | -"],  # the delimiter row may still grow: text
            [1, 0, "ab"],
            [1, 0, "ab"],  # half a row: not shown yet
            [1, 2, "ab12"],
        ]
        assert problems == []


TABLE_REPLY = (
    "Here are the plans [1]:\n\n"
    "| Plan | Monthly price | Included seats | Storage | Support | Single sign-on |\n"
    "| :--- | ---: | ---: | --- | --- | :-: |\n"
    "| Free | 0 EUR | 1 | 1 GB | Community forum only | no |\n"
    "| Team | 9 EUR | 10 | 100 GB | Email within two business days | no |\n"
    "| Enterprise | on request | unlimited | unlimited | Dedicated account manager | yes |\n\n"
    "Prices exclude VAT."
)

# Every distinct state of the newest answer's tables while it streams: [rows of cell texts].
OBSERVE_TABLES_JS = """(sel) => {
  const root = document.querySelector(sel).shadowRoot;
  window.__cbTables = [];
  const record = () => {
    const all = root.querySelectorAll('.cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble');
    const bubble = all[all.length - 1];
    if (!bubble) return;
    const state = JSON.stringify({
      tables: [...bubble.querySelectorAll('table')].map((t) =>
        [...t.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent))),
      text: bubble.textContent,
    });
    const seen = window.__cbTables;
    if (seen[seen.length - 1] !== state) seen.push(state);
  };
  new MutationObserver(record).observe(root, {subtree: true, childList: true, characterData: true});
}"""


def test_a_wide_table_streams_in_whole_rows_and_scrolls_in_its_own_box(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply=TABLE_REPLY, token_delay=0.01)
    url = site_page(third_party_site, streaming_app, tenant, "tables")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").click()
        page.evaluate(OBSERVE_TABLES_JS, "chatbot-widget")
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)

        states = [json.loads(s) for s in page.evaluate("window.__cbTables")]
        final = states[-1]["tables"]
        assert [len(table) for table in final] == [4], final
        assert final[0][0] == [
            "Plan", "Monthly price", "Included seats", "Storage", "Support", "Single sign-on",
        ]  # fmt: skip
        assert final[0][3][0] == "Enterprise"
        assert "|" not in states[-1]["text"]
        seen_table = False
        for state in states:
            if not state["tables"]:
                assert not seen_table, "the table turned back into text"
                continue
            seen_table = True
            (rows,) = state["tables"]
            assert rows == final[0][: len(rows)], rows  # only whole rows, in order
            assert "---" not in state["text"]
        assert seen_table
        assert len(states) > 5  # it streamed

        sizes = page.evaluate(
            """(sel) => {
              const root = document.querySelector(sel).shadowRoot;
              const box = root.querySelector('.cb-table');
              const log = root.querySelector('.cb-messages');
              const bubble = box.closest('.cb-bubble');
              const [b, l] = [bubble.getBoundingClientRect(), log.getBoundingClientRect()];
              return {scrolls: box.scrollWidth > box.clientWidth + 20,
                      logFits: log.scrollWidth <= log.clientWidth + 1,
                      bubbleInside: b.right <= l.right + 0.5 && b.left >= l.left - 0.5,
                      overflowX: getComputedStyle(box).overflowX};
            }""",
            "chatbot-widget",
        )
        assert sizes == {
            "scrolls": True, "logFits": True, "bubbleInside": True, "overflowX": "auto",
        }, sizes  # fmt: skip
        # The table's box is reachable with the keyboard (it scrolls with the arrow keys).
        shadow(page, ".cb-table").focus()
        ring = shadow(page, ".cb-table").evaluate(
            "n => [getComputedStyle(n).outlineStyle, parseFloat(getComputedStyle(n).outlineWidth)]"
        )
        assert ring[0] == "solid"
        assert ring[1] >= 2
        screenshot(page, "widget-table")
        assert problems == []
