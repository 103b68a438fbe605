"""A failed answer keeps its Retry after a reload (headless Chromium, the real ASGI app, the stub
model): a live failure offered Retry, but the same failure restored from the page's storage, and
the "answer was interrupted" note of a page reloaded mid-answer, came back without one (the
visitor typed the question again). Both now offer it, asking again in the same conversation in
the failed answer's place; a refusal that sending again cannot mend still offers none.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from chatbot_project.testing.openai_stub import Script
from conversations.models import Conversation, Message
from conversations.tests.browser_demo import (
    QUESTION,
    ask_widget,
    send_widget,
    shadow,
    site_page,
    stored_conversation_id,
    wait_for_row,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

ANSWERS = ".cb-msg--assistant:not(.cb-msg--greeting)"


def _reopen(page) -> None:
    page.reload()
    shadow(page, ".cb-launcher").click()
    shadow(page, ANSWERS).first.wait_for()


def _retry_in_place(page, openai_stub, reply: str) -> None:
    openai_stub.script = Script(reply=reply, token_delay=0)
    shadow(page, ".cb-retry").click()
    page.wait_for_function(
        """([sel, reply]) => {
          const root = document.querySelector('chatbot-widget').shadowRoot;
          const done = [...root.querySelectorAll(sel + ':not(.cb-streaming) .cb-bubble')];
          return done.length && done[done.length - 1].textContent === reply;
        }""",
        arg=[ANSWERS, reply],
        timeout=20_000,
    )
    assert shadow(page, ".cb-msg--user").count() == 1  # the question once
    assert shadow(page, ANSWERS).count() == 1  # the failed answer replaced
    assert shadow(page, ".cb-retry").count() == 0


def test_a_restored_failed_answer_offers_retry(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    url = site_page(third_party_site, streaming_app, tenant, "failedreload")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        openai_stub.script = Script(reply="unused", status=500)
        ask_widget(page, QUESTION)
        assert shadow(page, ".cb-retry").count() == 1  # live
        conversation = stored_conversation_id(page, "failedreload")
        _reopen(page)
        assert "cannot answer right now" in shadow(page, ".cb-status").last.text_content()
        retry = shadow(page, ".cb-retry")
        assert retry.count() == 1  # restored, as it was
        assert retry.evaluate("b => b.closest('.cb-msg--assistant') !== null")
        _retry_in_place(page, openai_stub, "Now it works.")
        assert stored_conversation_id(page, "failedreload") == conversation
        # What is kept: the answer that came, no Retry any more.
        _reopen(page)
        assert shadow(page, ".cb-retry").count() == 0
        assert shadow(page, f"{ANSWERS} .cb-bubble").all_text_contents() == ["Now it works."]
        assert problems == []

    third_party_site.pages["/badkey.html"] = third_party_site.pages["/failedreload.html"].replace(
        'data-key="', 'data-key="cb_not_a_key'
    )
    with new_page(browser, DESKTOP) as (page, _):
        page.goto(third_party_site.url("/badkey.html"))
        ask_widget(page, QUESTION)
        assert "Refused" in shadow(page, ".cb-status").last.text_content()
        _reopen(page)
        assert "Refused" in shadow(page, ".cb-status").last.text_content()
        assert shadow(page, ".cb-retry").count() == 0  # a refusal: none, restored or not


def test_an_interrupted_answer_offers_retry_in_the_same_conversation(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply="word " * 60, token_delay=0.02)
    url = site_page(third_party_site, streaming_app, tenant, "cutoff")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        send_widget(page, "How do answers stream?")
        shadow(page, ".cb-streaming .cb-md p").first.wait_for()
        page.reload()
        first = Conversation.objects.get(bot__slug="cutoff")
        wait_for_row(
            lambda: Message.objects.filter(conversation=first, role="assistant").first(),
            timeout=15,
        )
        shadow(page, ".cb-launcher").click()
        wait_widget_answer(page, 1)
        assert "interrupted" in shadow(page, ".cb-status").last.text_content()
        assert shadow(page, ".cb-retry").count() == 1
        _retry_in_place(page, openai_stub, "Answers stream as events.")
        assert Conversation.objects.filter(bot__slug="cutoff").count() == 1
        wait_for_row(
            lambda: Message.objects.filter(
                conversation=first, role="assistant", content="Answers stream as events."
            ).first()
        )
        assert problems == []
