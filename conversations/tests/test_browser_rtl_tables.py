"""Right-to-left Markdown tables (headless Chromium, the real ASGI app, the stub model): an Arabic
table in an answer runs right to left, in the widget and in the playground (same renderer): its
first column on the right, the column rules between the columns, and a wide one's scroller
starting at its right edge, on the first column. Before, each cell's text read right to left
(unicode-bidi: plaintext) but the columns still ran left to right, so an Arabic table read
backwards, first column last. An English table of the same answer stays left to right.
A table runs the way most of its cells read: an Arabic table whose first cell is a Latin name
(an API route) ran left to right, its direction taken from that first letter (dir=auto); an
English table with one Arabic cell still runs left to right.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import ask_widget, render_in_playground, shadow, site_page
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, PHONE, new_page, screenshot

pytestmark = BROWSER_TEST_MARKS

ARABIC_TABLE = (
    "| الخطة | السعر | المقاعد |\n| --- | --- | --- |\n| المجانية | صفر | واحد |\n"
    "| الفريق | تسعة | عشرة |"
)
WIDE_ARABIC = (
    "| " + " | ".join(f"العمود رقم {i} الطويل" for i in range(10)) + " |\n|" + "---|" * 10 + "\n| "
    + " | ".join(f"القيمة الطويلة {i}" for i in range(10)) + " |"
)  # fmt: skip
ENGLISH_TABLE = "| Plan | Price | Seats |\n| --- | --- | --- |\n| Free | 0 | 1 |"
LATIN_FIRST_ARABIC = (
    "| API | الوصف | الحد |\n| --- | --- | --- |\n| chat | سؤال | ستون |\n| search | بحث | مئة |"
)
ENGLISH_WITH_ARABIC_CELL = "| Plan | الخطة |\n| --- | --- |\n| Free | Team |"
REPLY = (
    f"مرحبا. هذه هي الخطط:\n\n{ARABIC_TABLE}\n\nIn English:\n\n{ENGLISH_TABLE}\n\n{WIDE_ARABIC}"
    f"\n\nالواجهات:\n\n{LATIN_FIRST_ARABIC}\n\nNames:\n\n{ENGLISH_WITH_ARABIC_CELL}"
)

# Per table of `root` (a widget's shadow root, else the document): the direction it runs in
# (the first header cell right of the second: 'rtl'), which side of the second cell carries the
# rule between them, and whether the first header cell is inside the scroller's visible box.
TABLES_JS = """(host) => {
  const root = host ? document.querySelector(host).shadowRoot : document;
  return [...root.querySelectorAll('.cb-table')].map((box) => {
    const [first, second] = box.querySelectorAll('th');
    const a = first.getBoundingClientRect(), b = second.getBoundingClientRect();
    const view = box.getBoundingClientRect(), css = getComputedStyle(second);
    return {
      runs: a.left > b.left ? 'rtl' : 'ltr',
      rule: css.borderRightStyle === 'solid' ? 'right'
        : css.borderLeftStyle === 'solid' ? 'left' : null,
      firstVisible: a.right <= view.right + 1 && a.right > view.left + 1,
      scrolls: box.scrollWidth > box.clientWidth,
    };
  });
}"""

EXPECTED = [
    {"runs": "rtl", "rule": "right", "firstVisible": True, "scrolls": False},
    {"runs": "ltr", "rule": "left", "firstVisible": True, "scrolls": False},
    {"runs": "rtl", "rule": "right", "firstVisible": True, "scrolls": True},
    {"runs": "rtl", "rule": "right", "firstVisible": True, "scrolls": False},  # 6 of 9 cells
    {"runs": "ltr", "rule": "left", "firstVisible": True, "scrolls": False},  # 3 of 4 cells
]


def test_arabic_tables_run_right_to_left_in_the_widget(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply=REPLY, token_delay=0)
    url = site_page(third_party_site, streaming_app, tenant, "rtltables")
    with new_page(browser, PHONE) as (page, problems):
        page.goto(url)
        ask_widget(page, "ما هي الخطط؟")
        assert shadow(page, ".cb-table").count() == 5
        assert page.evaluate(TABLES_JS, "chatbot-widget") == EXPECTED
        screenshot(page, "widget-rtl-tables")
        assert problems == []


def test_arabic_tables_run_right_to_left_in_the_playground(browser, streaming_app):
    with new_page(browser, PHONE) as (page, problems):
        render_in_playground(page, streaming_app.base_url, REPLY)
        assert page.evaluate(TABLES_JS, None) == EXPECTED
        assert problems == []
