"""Right-to-left Markdown lists and block quotes (headless Chromium, the real ASGI app, the stub
model): a list or quote runs the way most of its items (a quote: its paragraphs) read, in the
widget and in the playground (same renderer). Before, its direction came from its first letter
(dir=auto), so an Arabic list whose first item starts with a Latin term ("API ...") ran left to
right, its bullets on the left of Arabic items, and so did such a quote's bar. An English list with
one Arabic item stays left to right; each item's text still reads its own way.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import ask_widget, render_in_playground, site_page
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, PHONE, new_page

pytestmark = BROWSER_TEST_MARKS

ARABIC_LIST = "- API للمحادثة مع الروبوت\n- البحث في الوثائق\n- التقييم بعد الإجابة"
ENGLISH_LIST = "1. Ask a question\n2. اقرأ الإجابة\n3. Rate the answer"
ARABIC_QUOTE = "> API هي الواجهة.\n>\n> تستخدمها المواقع.\n>\n> وتعيد الإجابات."
REPLY = f"الخطوات:\n\n{ARABIC_LIST}\n\nSteps:\n\n{ENGLISH_LIST}\n\nملاحظة:\n\n{ARABIC_QUOTE}"

# Per list or quote of `root` (a widget's shadow root, else the document): the direction it runs
# in, the side its bullets (a quote: its bar) are on, and per item the way its text reads.
BLOCKS_JS = """(host) => {
  const root = host ? document.querySelector(host).shadowRoot : document;
  return [...root.querySelectorAll(':is(.cb-md, .pg-md) :is(ul, ol, blockquote)')]
    .map((block) => {
      const css = getComputedStyle(block);
      const side = block.tagName === 'BLOCKQUOTE'
        ? (css.borderRightStyle === 'solid' ? 'right' : 'left')
        : (parseFloat(css.paddingRight) > parseFloat(css.paddingLeft) ? 'right' : 'left');
      const items = [...block.querySelectorAll('li, p')].map((item) => {
        // The item's text: its first letter's side of the item's box.
        const range = document.createRange();
        range.setStart(item.firstChild, 0);
        range.setEnd(item.firstChild, 1);
        const a = range.getBoundingClientRect(), box = item.getBoundingClientRect();
        return a.left - box.left < box.right - a.right ? 'starts left' : 'starts right';
      });
      return {tag: block.tagName, dir: css.direction, side: side, items: items};
    });
}"""

EXPECTED = [
    # The Latin first item reads left to right in its own line; the bullets are on the right.
    {"tag": "UL", "dir": "rtl", "side": "right",
     "items": ["starts left", "starts right", "starts right"]},
    {"tag": "OL", "dir": "ltr", "side": "left",
     "items": ["starts left", "starts right", "starts left"]},
    {"tag": "BLOCKQUOTE", "dir": "rtl", "side": "right",
     "items": ["starts left", "starts right", "starts right"]},
]  # fmt: skip


def test_arabic_lists_and_quotes_run_right_to_left_in_the_widget(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    url = site_page(third_party_site, streaming_app, tenant, "rtllists")
    with new_page(browser, PHONE) as (page, problems):
        page.goto(url)
        ask_widget(page, "ما هي الخطوات؟")
        assert page.evaluate(BLOCKS_JS, "chatbot-widget") == EXPECTED
        assert problems == []


def test_arabic_lists_and_quotes_run_right_to_left_in_the_playground(browser, streaming_app):
    with new_page(browser, PHONE) as (page, problems):
        render_in_playground(page, streaming_app.base_url, REPLY)
        assert page.evaluate(BLOCKS_JS, None) == EXPECTED
        assert problems == []
