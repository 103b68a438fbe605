"""Right-to-left text in the widget (headless Chromium, the real ASGI app, the stub model): an
Arabic question, answer paragraph or list item reads right to left (its closing punctuation at its
left end, the text against the bubble's right edge) while English paragraphs of the same answer
stay left to right; the input follows what is typed.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import WIDGET, shadow, site_page, wait_widget_answer
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    PHONE,
    new_page,
    screenshot,
)

pytestmark = BROWSER_TEST_MARKS

ARABIC = "مرحبا بكم في المساعد. يضاف المساعد إلى الصفحة بوسم برمجي واحد ويعرض المصادر."
REPLY = f"{ARABIC}\n\nThe widget is added with one script tag.\n\n- {ARABIC}"
QUESTION = "كيف أضيف المساعد إلى صفحتي?"

# For each selector, the first element's reading order: 'rtl' when its last character (the
# closing punctuation) is drawn left of its first one, and how far its last line's text sits from
# the element's right and left edges.
READING_JS = f"""(selectors) => {{
  const host = document.querySelector('{WIDGET}');
  const root = host ? host.shadowRoot : document;
  return selectors.map((sel) => {{
    const node = root.querySelector(sel);
    const text = node.firstChild.nodeType === 3
      ? node.firstChild : node.querySelector('*').firstChild;
    const at = (i) => {{
      const r = document.createRange();
      r.setStart(text, i);
      r.setEnd(text, i + 1);
      return r.getBoundingClientRect();
    }};
    const first = at(0), last = at(text.length - 1);
    const lines = document.createRange(); lines.selectNodeContents(node);
    const rects = [...lines.getClientRects()], box = node.getBoundingClientRect();
    const end = rects[rects.length - 1];
    const style = getComputedStyle(node);
    const pad = parseFloat(style.paddingRight), padl = parseFloat(style.paddingLeft);
    return [last.right <= first.left + 1 ? 'rtl' : 'ltr',
            Math.round(box.right - pad - end.right), Math.round(end.left - box.left - padl)];
  }});
}}"""


def test_arabic_questions_and_answers_read_right_to_left(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply=REPLY, token_delay=0.002)
    url = site_page(third_party_site, streaming_app, tenant, "rtl")
    with new_page(browser, PHONE) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").click()
        shadow(page, "textarea").fill(QUESTION)
        # The textarea's value has no text node to measure: its direction follows what is typed.
        assert shadow(page, "textarea").evaluate(
            "n => getComputedStyle(n).unicodeBidi === 'plaintext' || n.dir === 'auto'"
        )
        page.keyboard.press("Enter")
        wait_widget_answer(page, 1)
        screenshot(page, "widget_rtl_phone")
        english = _reads_right_to_left(
            page, ".cb-msg--user .cb-bubble", ".cb-msg--assistant:not(.cb-msg--greeting) .cb-md"
        )
        assert english[2] <= 2, english
        assert problems == []


def test_the_playground_reads_arabic_right_to_left_too(browser, streaming_app, demo, openai_stub):
    _, _, staff_key = demo
    openai_stub.script = Script(reply=REPLY, token_delay=0.002)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(streaming_app.base_url + "/playground/")
        page.fill("#pg-key", staff_key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        assert page.locator("#pg-input").get_attribute("dir") == "auto"
        page.fill("#pg-input", QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])")
        _reads_right_to_left(page, ".pg-msg-user .pg-bubble", ".pg-msg-assistant .pg-md")
        assert problems == []


def _reads_right_to_left(page, question_sel: str, answer: str) -> list:
    """The Arabic question, the answer's Arabic paragraph and list item read right to left (the
    paragraph's last line against the right), its English paragraph left to right: the English
    paragraph's READING_JS reading."""
    question, arabic, english, item = page.evaluate(
        READING_JS,
        [
            question_sel,
            f"{answer} > p:nth-of-type(1)",
            f"{answer} > p:nth-of-type(2)",
            f"{answer} li",
        ],
    )
    assert question[0] == "rtl", question
    assert arabic[0] == "rtl", arabic
    assert arabic[1] <= 2, f"the Arabic paragraph's last line is not against the right: {arabic}"
    assert item[0] == "rtl", item
    assert english[0] == "ltr", english
    return english
