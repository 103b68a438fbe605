"""Markdown tables in the playground's answers (headless Chromium): the widget's renderer makes
them real tables, and the playground's stylesheet gives them the widget's look: cell borders and
padding, a header background, and a box of their own that scrolls sideways, so a wide table
never widens the answer column. (Before, playground.css had no table styles: cells ran together
unbordered and a wide table pushed out of its bubble.)

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

WIDE = "| " + " | ".join(f"Column {i}" for i in range(12)) + " |\n"
WIDE += "|" + "---|" * 12 + "\n| " + " | ".join(f"value-{i}-long" for i in range(12)) + " |"

MEASURE_JS = """(src) => {
  const bubble = document.createElement('div');
  bubble.className = 'pg-md';
  bubble.style.width = '320px';
  document.body.appendChild(bubble);
  window.ChatbotWidget.renderMarkdown(src, bubble);
  const box = bubble.querySelector('.cb-table');
  const table = bubble.querySelector('table');
  const th = bubble.querySelector('th');
  const td = bubble.querySelector('td + td');
  const css = (el) => getComputedStyle(el);
  return {
    collapse: css(table).borderCollapse,
    overflowX: css(box).overflowX,
    boxWidth: box.getBoundingClientRect().width,
    bubbleWidth: bubble.getBoundingClientRect().width,
    scrolls: box.scrollWidth > box.clientWidth,
    cellPadding: css(th).paddingLeft,
    cellBorder: css(td).borderLeftStyle,
    headerBackground: css(th).backgroundColor,
  };
}"""


def test_playground_tables_are_styled_and_scroll_in_their_box(browser, live_app):
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(live_app.base_url + "/playground/")
        page.wait_for_selector("#pg-connect")  # the page's scripts (widget.js first) have run
        got = page.evaluate(MEASURE_JS, WIDE)
        assert got["collapse"] == "collapse", got
        assert got["overflowX"] == "auto", got
        assert got["scrolls"], got
        assert got["boxWidth"] <= got["bubbleWidth"] + 0.5, got  # the answer does not widen
        assert got["cellPadding"] == "8px", got
        assert got["cellBorder"] == "solid", got
        assert got["headerBackground"] not in ("rgba(0, 0, 0, 0)", "transparent"), got
        assert not problems, problems
