"""Retry of a failed answer, in headless Chromium against the real ASGI app and the stub model: a
connection dropped mid-answer or the model provider failing left the visitor to type their question
again. The failed answer now offers a Retry button (reached with the keyboard, announced like the
rest) that sends the same question again in the same conversation, in the failed answer's place,
without a second bubble of the question. Failures that sending again cannot mend (an invalid key)
offer none.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    ACTIVE_JS,
    QUESTION,
    WIDGET,
    ask_widget,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page
from conversations.tests.tcp_faults import faulty_proxy

pytestmark = BROWSER_TEST_MARKS


# The texts the widget's polite status region (its announcer) held, in order.
ANNOUNCED_JS = f"""() => {{
  const region = document.querySelector('{WIDGET}').shadowRoot.querySelector('[role=status]');
  window.__cbSaid = [];
  new MutationObserver(() => {{
    if (region.textContent) window.__cbSaid.push(region.textContent);
  }}).observe(region, {{subtree: true, childList: true, characterData: true}});
}}"""


def _chat_bodies(page) -> list[dict]:
    bodies: list[dict] = []
    page.on(
        "request",
        lambda r: (
            bodies.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/v1/chat")
            else None
        ),
    )
    return bodies


def test_a_dropped_answer_is_retried_in_place_with_the_keyboard(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    proxy, armed = faulty_proxy(urlparse(streaming_app.base_url).port, "drop")
    url = site_page(third_party_site, streaming_app, tenant, "retried")
    page_html = third_party_site.pages["/retried.html"]
    third_party_site.pages["/retried.html"] = page_html.replace(
        "data-bot=", f'data-api="{proxy}" data-bot='
    )
    with new_page(browser, DESKTOP) as (page, problems):
        bodies = _chat_bodies(page)
        page.goto(url)
        # A first answer, so that the conversation exists on the server.
        openai_stub.script = Script(reply="Hello there.", token_delay=0)
        ask_widget(page, "Hello?")
        conversation = json.loads(
            page.evaluate(
                "() => localStorage.getItem(Object.keys(localStorage).find("
                "(k) => k.endsWith(':retried')))"
            )
        )["conversationId"]
        assert conversation

        openai_stub.script = Script(reply="word " * 100, token_delay=0.02)
        armed.set()
        page.evaluate(ANNOUNCED_JS)
        shadow(page, "textarea").fill(QUESTION)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        status = shadow(page, ".cb-status").last.text_content()
        assert status == "The connection was lost before the answer finished. Please try again."
        retry = shadow(page, "button.cb-retry")
        assert retry.count() == 1
        assert retry.text_content() == "Retry"
        assert retry.evaluate("b => b.closest('.cb-msg--assistant') !== null")

        # Keyboard: from the message input, Shift+Tab reaches Retry; Enter sends again.
        assert page.evaluate(ACTIVE_JS) == "cb-input"
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(ACTIVE_JS) == "cb-retry"
        openai_stub.script = Script(reply="The widget is one script tag.", token_delay=0)
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)

        answers = shadow(page, ".cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble")
        assert answers.count() == 2  # the failed answer was replaced, not kept beside
        assert answers.last.text_content() == "The widget is one script tag."
        questions = shadow(page, ".cb-msg--user .cb-bubble").all_text_contents()
        assert questions == ["Hello?", QUESTION]  # no second bubble of the question
        assert shadow(page, ".cb-retry").count() == 0
        assert page.evaluate(ACTIVE_JS) == "cb-input"  # not dropped onto the host page

        # The same question, in the same conversation, sent twice (the failure, the retry).
        assert [(b["message"], b.get("conversation_id")) for b in bodies[1:]] == [
            (QUESTION, conversation),
            (QUESTION, conversation),
        ]
        said = page.evaluate("window.__cbSaid")
        assert said[0].endswith(status), said  # the failure (after what came before it)
        assert said[1] == "Sending your question again\u2026", said
        assert said[-1] == "Assistant: The widget is one script tag.", said

        # What the browser keeps: the question once and the answer that came, not the failed one.
        page.reload()
        shadow(page, ".cb-launcher").click()
        assert shadow(page, ".cb-msg--user .cb-bubble").all_text_contents() == [
            "Hello?",
            QUESTION,
        ]
        texts = shadow(page, ".cb-msg--assistant:not(.cb-msg--greeting) .cb-bubble")
        assert texts.all_text_contents() == ["Hello there.", "The widget is one script tag."]
        assert problems == []


def test_a_model_failure_offers_retry_and_an_invalid_key_does_not(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    url = site_page(third_party_site, streaming_app, tenant, "upstream")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        openai_stub.script = Script(reply="unused", status=500)
        ask_widget(page, QUESTION)
        assert "cannot answer right now" in shadow(page, ".cb-status").last.text_content()
        openai_stub.script = Script(reply="Now it works.", token_delay=0)
        shadow(page, ".cb-retry").click()  # a pointer works too
        wait_widget_answer(page, 1)
        assert shadow(page, ".cb-bubble").last.text_content() == "Now it works."
        assert shadow(page, ".cb-msg--user").count() == 1
        assert shadow(page, ".cb-retry").count() == 0
        assert len([r for r in openai_stub.requests if "chat/completions" in r.path]) == 2
        assert problems == []

    third_party_site.pages["/badkey.html"] = third_party_site.pages["/upstream.html"].replace(
        'data-key="', 'data-key="cb_not_a_key'
    )
    with new_page(browser, DESKTOP) as (page, _):
        page.goto(third_party_site.url("/badkey.html"))
        ask_widget(page, QUESTION)
        assert "Refused" in shadow(page, ".cb-status").last.text_content()
        assert shadow(page, ".cb-retry").count() == 0
