"""The playground for screen-reader users and for keys that may not chat (headless Chromium, the
real ASGI app, the stub model): a streamed answer is announced once when it ends, not re-read
as it grows, and a key without the `chat` permission is told so when it connects (it may still
browse the tenant's conversations) rather than refused at its first question.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.models import APIKey
from apikeys.services import api_key_create
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import QUESTION, REPLY, wait_for_row
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page, screenshot

pytestmark = BROWSER_TEST_MARKS

DONE = ".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])"

# Every element of the page that a screen reader treats as a live region, and the texts each
# one held (browser_widget_visitors' LIVE_JS, for the playground's document).
LIVE_JS = """() => {
  window.__pgLive = [];
  const live = (node) => {
    const value = node.getAttribute('aria-live');
    if (value) return value !== 'off';
    return ['log', 'status', 'alert', 'marquee', 'timer'].includes(node.getAttribute('role'));
  };
  window.__pgLiveRegions = () => [...document.querySelectorAll('*')].filter(live);
  new MutationObserver(() => {
    for (const region of window.__pgLiveRegions()) {
      const text = region.textContent.trim();
      const seen = window.__pgLive;
      if (text && !(seen.length && seen[seen.length - 1] === text)) seen.push(text);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _connect(page, app, key: str) -> None:
    page.goto(app.base_url + "/playground/")
    page.fill("#pg-key", key)
    page.click("#pg-connect")
    page.wait_for_selector("#pg-app:not([hidden])")


def test_the_playground_announces_each_answer_once(browser, streaming_app, demo, openai_stub):
    """#pg-messages was a polite log (role=log, aria-live): every re-render of the streaming
    answer inside it was queued for reading aloud, and its aria-busy was all that held them."""
    _, _, staff_key = demo
    openai_stub.script = Script(reply=REPLY, token_delay=0.02)
    with new_page(browser, DESKTOP) as (page, problems):
        _connect(page, streaming_app, staff_key)
        page.evaluate(LIVE_JS)
        page.fill("#pg-input", QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(DONE)
        inside_live = page.evaluate(
            "() => window.__pgLiveRegions().filter((r) => r.querySelector('.pg-msg-assistant'))"
            ".length"
        )
        assert inside_live == 0, "the streamed answer sits inside a live region"
        spoken = page.evaluate("window.__pgLive")
        assert len(spoken) == 1, spoken
        assert spoken[0].startswith("Assistant: You add the widget with one script tag 1.")
        assert "**" not in spoken[0]
        assert spoken[0].endswith("per minute 2"), spoken[0]

        # Feedback is still said (it was the answer's own status region).
        page.click(".pg-fb-up")
        page.wait_for_selector(".pg-status-ok")
        page.wait_for_function("() => window.__pgLive.length === 2")
        assert page.evaluate("window.__pgLive")[1] == "Feedback saved."
        assert problems == []


def test_a_key_that_cannot_chat_is_told_so_when_it_connects(
    browser, streaming_app, demo, tenant, openai_stub
):
    """A read-only key connected (bots and scopes are readable) and learned that it may not chat
    only when its first question was refused."""
    _, key_text = api_key_create(tenant=tenant, name="reader", permissions=["read"])
    with new_page(browser, DESKTOP) as (page, problems):
        chats: list[str] = []
        page.on("request", lambda r: "/v1/chat" in r.url and chats.append(r.url))
        _connect(page, streaming_app, key_text)
        notice = page.locator("#pg-no-chat")
        notice.wait_for(timeout=5_000)
        assert "cannot chat" in notice.text_content(), notice.text_content()
        assert "chat permission" in notice.text_content()
        assert page.locator("#pg-input").is_disabled()
        assert page.locator("#pg-send").is_disabled()
        assert page.locator("#pg-input").get_attribute("placeholder") == "This key cannot chat"
        assert "#}" not in page.locator("#pg-app").inner_text()  # (no template text on show)
        # Browsing what the key may read still works.
        page.wait_for_selector("#pg-conversations li")
        screenshot(page, "playground-read-only-key")
        assert chats == []
        assert problems == []

    # A key that may chat connects as before; one whose chat permission is taken away after it
    # connected learns it at its next question, and the playground then says the same.
    _, staff_key = api_key_create(tenant=tenant, name="was staff", permissions=["chat", "read"])
    openai_stub.script = Script(reply="Hello.", token_delay=0)
    with new_page(browser, DESKTOP) as (page, problems):
        _connect(page, streaming_app, staff_key)
        assert not page.locator("#pg-no-chat").is_visible()
        assert page.locator("#pg-input").is_enabled()
        APIKey.objects.filter(name="was staff").update(permissions=["read"])
        page.fill("#pg-input", "Still there?")
        page.keyboard.press("Enter")
        page.wait_for_selector("#pg-input:disabled", timeout=5_000)
        assert "cannot chat" in page.locator("#pg-no-chat").text_content()
        assert page.locator("#pg-send").is_disabled()
        assert problems == []


def test_a_visitors_conversation_can_be_continued_from_the_playground(
    browser, streaming_app, demo, openai_stub
):
    """The playground sent user "playground" with every question; since a conversation is its
    end user's (733b3a2), a follow-up to a widget visitor's conversation opened from the list
    was refused as missing (404). It now continues it as that conversation's end user."""
    from conversations.tests.factories import ConversationFactory, MessageFactory

    kb, _, staff_key = demo
    conversation = ConversationFactory(bot=kb.bot, user="anon-visitor-1", title="From the site")
    MessageFactory(conversation=conversation, role="user", content="How do I add the widget?")
    MessageFactory(conversation=conversation, role="assistant", content="With one script tag.")
    openai_stub.script = Script(reply="Yes, one tag.", token_delay=0)
    with new_page(browser, DESKTOP) as (page, problems):
        _connect(page, streaming_app, staff_key)
        page.click(".pg-conv")
        page.wait_for_selector(".pg-msg-assistant")
        page.fill("#pg-input", "Only one?")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelectorAll('.pg-msg-assistant').length === 2"
            " && !document.querySelector('.pg-streaming')"
        )
        assert page.locator(".pg-msg-assistant .pg-bubble").last.text_content() == "Yes, one tag."
        wait_for_row(lambda: conversation.messages.filter(content="Only one?").first())
        conversation.refresh_from_db()
        assert conversation.user == "anon-visitor-1"
        assert problems == []

    # A new conversation from the playground is still the playground's own.
    with new_page(browser, DESKTOP) as (page, problems):
        bodies: list[dict] = []
        page.on(
            "request",
            lambda r: r.url.endswith("/v1/chat") and bodies.append(r.post_data_json),
        )
        _connect(page, streaming_app, staff_key)
        page.fill("#pg-input", "Hello?")
        page.keyboard.press("Enter")
        page.wait_for_selector(DONE)
        assert [b.get("user") for b in bodies] == ["playground"]
        assert problems == []
