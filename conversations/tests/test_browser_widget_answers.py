"""How the widget lays out what an answer holds (headless Chromium, the real ASGI app, the stub
model), and the playground with the same renderer: a right-to-left list has its bullets on the
right (a quote its bar on the right), a wide code block is a named region that the keyboard can
reach and scroll (a short one is no extra Tab stop), and an answer cut off by a reload leaves a
note under its question.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    ACTIVE_JS,
    WIDGET,
    send_widget,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    PHONE,
    new_page,
    screenshot,
)

pytestmark = BROWSER_TEST_MARKS

ARABIC = "يضاف المساعد إلى الصفحة بوسم برمجي واحد."
ARABIC_2 = "ويعرض المصادر تحت كل جواب."
RTL_REPLY = (
    f"- {ARABIC}\n- {ARABIC_2}\n\nIn English:\n\n- One script tag.\n- Sources as chips.\n\n"
    f"> {ARABIC_2}\n\n| المنتج | السعر |\n| --- | --- |\n| المساعد | مجاني |"
)

# For the first and second list (and the quote) of the newest answer: the item's direction, the
# room left of and right of its box inside the list (where the bullets go), the quote's bar side.
LISTS_JS = """([hostSel, answerSel]) => {
  const host = hostSel && document.querySelector(hostSel);
  const root = host ? host.shadowRoot : document;
  const answers = root.querySelectorAll(answerSel);
  const answer = answers[answers.length - 1];
  const lists = [...answer.querySelectorAll('ul')].map((ul) => {
    const li = ul.querySelector('li'), box = ul.getBoundingClientRect();
    const item = li.getBoundingClientRect();
    return [getComputedStyle(li).direction, Math.round(item.left - box.left),
            Math.round(box.right - item.right)];
  });
  const quote = getComputedStyle(answer.querySelector('blockquote'));
  // An Arabic cell's text against the cell's right edge (less its padding), in pixels.
  const cell = answer.querySelector('td'), range = document.createRange();
  range.selectNodeContents(cell);
  const gap = cell.getBoundingClientRect().right - parseFloat(getComputedStyle(cell).paddingRight)
    - range.getBoundingClientRect().right;
  return [lists, [quote.borderLeftWidth, quote.borderRightWidth], Math.round(gap)];
}"""


def _assert_bullets_follow_the_text(lists, quote_bars, cell_gap) -> None:
    (arabic_dir, arabic_left, arabic_right), (english_dir, english_left, english_right) = lists
    assert arabic_dir == "rtl", lists
    assert arabic_right >= 16, f"Arabic bullets are not on the right: {lists}"
    assert arabic_left <= 1, lists
    assert english_dir == "ltr", lists
    assert english_left >= 16, lists
    assert english_right <= 1, lists
    assert quote_bars == ["0px", "3px"], quote_bars  # the Arabic quote's bar on its right
    assert cell_gap <= 1, f"the Arabic cell's text is {cell_gap}px from its right edge"


def test_right_to_left_lists_have_their_bullets_on_the_right(
    browser, streaming_app, third_party_site, tenant, openai_stub, demo
):
    """`padding-left` on lists (and `border-left` on quotes) kept an Arabic list's bullets on
    the left, away from its text, in the widget and in the playground (and `text-align: left`
    an Arabic table cell's text against the cell's left edge)."""
    openai_stub.script = Script(reply=RTL_REPLY, token_delay=0.002)
    url = site_page(third_party_site, streaming_app, tenant, "rtl-lists")
    with new_page(browser, PHONE) as (page, problems):
        page.goto(url)
        send_widget(page, "كيف أضيف المساعد؟")
        wait_widget_answer(page, 1)
        screenshot(page, "widget-rtl-lists-phone")
        _assert_bullets_follow_the_text(
            *page.evaluate(LISTS_JS, [WIDGET, ".cb-msg--assistant .cb-md"])
        )
        assert problems == []

    _, _, staff_key = demo
    openai_stub.script = Script(reply=RTL_REPLY, token_delay=0.002)
    with new_page(browser, DESKTOP) as (page, problems):
        _playground_ask(page, streaming_app, staff_key, "كيف أضيف المساعد؟")
        _assert_bullets_follow_the_text(
            *page.evaluate(LISTS_JS, [None, ".pg-msg-assistant .pg-md"])
        )
        assert problems == []


WIDE = (
    "python manage.py create_api_key --tenant acme --name website --permissions chat "
    "--bots support --origins https://www.acme.com --rate-limit 300/m"
)
CODE_REPLY = f"Run this:\n\n```bash\n{WIDE}\n```\n\nThen list them:\n\n```\nls\n```"

# Each code block of the newest answer: [tabindex, role, aria-label, overflows].
PRES_JS = """([hostSel, answerSel]) => {
  const host = hostSel && document.querySelector(hostSel);
  const root = host ? host.shadowRoot : document;
  const answers = root.querySelectorAll(answerSel);
  return [...answers[answers.length - 1].querySelectorAll('pre')].map((pre) => [
    pre.getAttribute('tabindex'), pre.getAttribute('role'), pre.getAttribute('aria-label'),
    pre.scrollWidth > pre.clientWidth]);
}"""


def test_a_wide_code_block_is_a_named_region_the_keyboard_can_scroll(
    browser, streaming_app, third_party_site, tenant, openai_stub, demo
):
    """A code block wider than the bubble scrolled sideways only with a mouse or a touch: no
    Tab stop, no name for screen readers (tables already had both)."""
    openai_stub.script = Script(reply=CODE_REPLY, token_delay=0.002)
    url = site_page(third_party_site, streaming_app, tenant, "wide-code")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        send_widget(page, "How do I make a browser key?")
        wait_widget_answer(page, 1)
        wide, short = page.evaluate(PRES_JS, [WIDGET, ".cb-msg--assistant .cb-md"])
        assert wide == ["0", "region", "Code (bash), scrolls sideways", True], wide
        assert short == [None, None, None, False], short  # fits: no extra Tab stop

        # Keyboard: from the conversation, Tab reaches the wide block; the arrow keys scroll it.
        shadow(page, ".cb-messages").focus()
        page.keyboard.press("Tab")
        assert page.evaluate(ACTIVE_JS) == "", "the focus is not on the code block"
        assert shadow(page, "pre").first.evaluate("p => p.matches(':focus-visible')")
        ring = shadow(page, "pre").first.evaluate("p => getComputedStyle(p).outlineStyle")
        assert ring == "solid"
        page.keyboard.press("ArrowRight")
        shadow(page, "pre").first.evaluate(  # (the browser scrolls smoothly)
            "p => new Promise((ok, no) => { const t = Date.now(); (function check() {"
            " if (p.scrollLeft > 0) ok(); else if (Date.now() - t > 3000) no('not scrolled');"
            " else requestAnimationFrame(check); })(); })"
        )
        assert problems == []

    _, _, staff_key = demo
    openai_stub.script = Script(reply=CODE_REPLY, token_delay=0.002)
    with new_page(browser, {"width": 1000, "height": 800}) as (page, problems):
        _playground_ask(page, streaming_app, staff_key, "How do I make a browser key?")
        wide, short = page.evaluate(PRES_JS, [None, ".pg-msg-assistant .pg-md"])
        assert wide == ["0", "region", "Code (bash), scrolls sideways", True], wide
        assert short == [None, None, None, False], short
        assert problems == []


INTERRUPTED = "The answer was interrupted: the page was reloaded or left before it finished."


def test_a_reload_mid_answer_leaves_a_note_under_the_question(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """After a reload mid-answer the question stood alone, with no answer and no word of what
    happened (the browser key cannot read the answer the server stored)."""
    openai_stub.script = Script(reply="word " * 200, token_delay=0.02)
    url = site_page(third_party_site, streaming_app, tenant, "cut-off")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        send_widget(page, "How do answers stream?")
        shadow(page, ".cb-streaming .cb-md p").first.wait_for()
        page.reload()
        for _ in range(2):  # the note is kept: a second reload shows it as well
            shadow(page, ".cb-launcher").click()
            messages = shadow(page, ".cb-msg:not(.cb-msg--greeting)")
            assert messages.count() == 2
            assert "cb-msg--user" in messages.nth(0).get_attribute("class")
            assert shadow(page, ".cb-msg--assistant .cb-status").last.text_content() == INTERRUPTED
            screenshot(page, "widget-interrupted-answer")
            page.reload()

        # The next question is answered below it, and no note is left once an answer ends.
        openai_stub.script = Script(reply="Word by word.", token_delay=0)
        send_widget(page, "And now?")
        wait_widget_answer(page, 2)
        assert shadow(page, ".cb-bubble").last.text_content() == "Word by word."
        page.reload()
        shadow(page, ".cb-launcher").click()
        statuses = shadow(page, ".cb-msg--assistant .cb-status:not([hidden])")
        assert statuses.all_text_contents() == [INTERRUPTED]
        assert problems == []


def _playground_ask(page, app, key: str, question: str) -> None:
    page.goto(app.base_url + "/playground/")
    page.fill("#pg-key", key)
    page.click("#pg-connect")
    page.wait_for_selector("#pg-app:not([hidden])")
    page.fill("#pg-input", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])")


def test_a_failed_answer_keeps_its_note_after_a_reload(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    """An answer refused before it started (here the server's 503) was not kept: after a reload
    its question stood alone, the failure's sentence gone. One that failed after its sources
    came (the model provider's 500) was kept, but came back as a small line, not the failure's
    box it was shown in."""
    url = site_page(third_party_site, streaming_app, tenant, "failed-kept")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        unavailable = '{"error": {"type": "unavailable", "message": "Try again later."}}'
        page.route(
            "**/v1/chat",
            lambda route: route.fulfill(
                status=503, body=unavailable, content_type="application/json"
            ),
        )
        send_widget(page, "Are you there?")
        wait_widget_answer(page, 1)
        page.unroute("**/v1/chat")
        openai_stub.script = Script(reply="unused", status=500)
        shadow(page, "textarea").fill("How do answers stream?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        said = shadow(page, ".cb-msg--assistant .cb-status").all_text_contents()
        # (It was to be sent again by itself in 3 seconds: the next question came first.)
        assert said[0] == (
            "The chat service is briefly unavailable. Your question will be sent again in 3 "
            "seconds."
        ), said
        assert "cannot answer right now" in said[1], said
        said[0] = "The chat service is briefly unavailable. Please try again in a moment."

        page.reload()
        shadow(page, ".cb-launcher").click()
        kinds = shadow(page, ".cb-msg:not(.cb-msg--greeting)").evaluate_all(
            "nodes => nodes.map((n) => n.className)"
        )
        assert kinds == ["cb-msg cb-msg--user", "cb-msg cb-msg--assistant cb-msg--error"] * 2
        assert shadow(page, ".cb-msg--assistant .cb-status").all_text_contents() == said
        assert problems == []
