"""What the browser test modules (test_browser_*.py) share besides browser_fixtures.py: the demo
knowledge base, the question asked of it and the stub model's streamed reply, the ``demo`` fixture
(demo bot, its browser key on the demo page, a staff key; registered in conftest.py), and helpers
that drive and read the widget's shadow DOM, the streamed states of an answer, and rows the
server saves asynchronously, and ``site_page`` (a third-party page embedding a new bot's widget).
"""

from __future__ import annotations

import time

import pytest

from apikeys.services import api_key_create
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_fixtures import widget_page

DEMO_DOCS = {
    "Getting started": [
        "The widget is added to a page with one script tag. It opens a chat panel in the corner "
        "of the page. Answers stream in word by word and cite their sources as numbered chips.",
        "Browser keys have only the chat permission. A browser key is restricted to one bot and "
        "to the allowed origins of the site that embeds the widget.",
    ],
    "Rate limits": [
        "Every browser key has a rate limit per minute. The widget sends an anonymous end user id "
        "so that the limit applies per visitor as well as per key.",
    ],
}
QUESTION = "How is the widget added to a page and how do answers stream?"
# What the stub model streams, one token every 25 ms (about 1.5 s in all).
REPLY = (
    "You add the widget with **one script tag** [1]. It opens a chat panel in the corner of the "
    "page, and answers stream in word by word with their sources as numbered chips [1].\n\n"
    "- Browser keys have only the `chat` permission [1]\n"
    "- Each key has a rate limit per minute [2]"
)

WIDGET = "chatbot-widget"

# The class of the element focused inside the widget's shadow root (what keyboard users are on),
# or where focus went instead.
ACTIVE_JS = f"""() => {{
  const active = document.querySelector('{WIDGET}').shadowRoot.activeElement;
  return active ? active.className : 'outside the widget: ' + document.activeElement.tagName;
}}"""


def shadow(page, selector: str):
    """Playwright CSS selectors pierce open shadow roots."""
    return page.locator(f"{WIDGET} {selector}")


def wait_widget_answer(page, count: int, timeout: float = 20_000) -> None:
    """Wait until `count` answers (not counting the greeting) finished streaming."""
    page.wait_for_function(
        """([sel, n]) => {
          const root = document.querySelector(sel)?.shadowRoot;
          if (!root) return false;
          const done = root.querySelectorAll('.cb-msg--assistant:not(.cb-msg--greeting)'
                                             + ':not(.cb-streaming)');
          return done.length >= n && !root.querySelector('.cb-streaming');
        }""",
        arg=[WIDGET, count],
        timeout=timeout,
    )


def stored_conversation_id(page, bot: str) -> str | None:
    """The conversation id the widget for ``bot`` keeps in the page's localStorage."""
    return page.evaluate(
        "bot => Object.entries(localStorage).filter(([k]) => k.endsWith(':' + bot))"
        ".map(([, v]) => JSON.parse(v).conversationId)[0]",
        bot,
    )


def send_widget(page, question: str) -> None:
    """Open the widget's panel and send `question` with Enter (not waiting for the answer)."""
    shadow(page, ".cb-launcher").click()
    shadow(page, "textarea").fill(question)
    page.keyboard.press("Enter")


def ask_widget(page, question: str) -> None:
    """Open the widget's panel, send `question` with Enter and wait for the answer to finish."""
    send_widget(page, question)
    wait_widget_answer(page, 1)


def partial_states(page) -> list[str]:
    states = page.evaluate("window.__cbStates || []")
    final = states[-1] if states else ""
    return [s for s in states if s != final and len(s) < len(final)]


def wait_for_row(query, timeout: float = 5.0):
    """Poll the database until `query()` returns a row (the server saves asynchronously)."""
    deadline = time.monotonic() + timeout
    while (row := query()) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert row is not None, "the row did not appear in time"
    return row


def site_page(site, app, tenant, name: str, *, head: str = "", docs=None) -> str:
    """A page of the third-party site embedding the widget (README's tag) for a new bot whose
    browser key allows that site's origin; returns the page's URL."""
    from conversations.tests.conftest import build_kb  # here: conftest imports this module

    kb = build_kb(tenant, slug=name, docs=docs or DEMO_DOCS)
    _, key = api_key_create(
        tenant=tenant, name=f"{name} site", permissions=["chat"], bots=[kb.bot],
        allowed_origins=[site.base_url],
    )  # fmt: skip
    site.pages[f"/{name}.html"] = widget_page(app_url=app.base_url, bot=name, key=key, head=head)
    return site.url(f"/{name}.html")


@pytest.fixture
def demo(tenant, streaming_app, openai_stub):
    """The demo bot, its browser key (chat only, this bot, the app's own origin) written where
    /demo/ reads it, a staff key (chat + read) for the playground, and the stub model's reply."""
    from conversations.tests.conftest import build_kb  # here: conftest imports this module

    openai_stub.script = Script(reply=REPLY, token_delay=0.025)
    kb = build_kb(tenant, slug="demo", docs=DEMO_DOCS)
    _, browser_key = api_key_create(
        tenant=tenant,
        name="demo widget",
        permissions=["chat"],
        bots=[kb.bot],
        allowed_origins=[streaming_app.base_url],
        rate_limit="100/m",
    )
    _, staff_key = api_key_create(tenant=tenant, name="playground", permissions=["chat", "read"])
    streaming_app.demo_key_file.write_text(browser_key + "\n")
    yield kb, browser_key, staff_key
    streaming_app.demo_key_file.unlink(missing_ok=True)


def assert_partial_kept_then_recovers(page, openai_stub, failure: str, *, answers: int) -> None:
    """After a connection failed mid-answer (``failure``, its sentence): the status says so, the
    words that came before it stay, the widget can send again, and the next question (answer
    number ``answers``) is answered."""
    status = shadow(page, ".cb-status").last.text_content()
    assert status == f"{failure} Please try again."
    partial = shadow(page, ".cb-bubble").last.text_content()
    assert partial.startswith("word"), partial  # what came before the failure stays
    assert len(partial) < len("word " * 100)
    assert shadow(page, ".cb-send").is_visible()

    openai_stub.script = Script(reply="Back again.", token_delay=0)
    shadow(page, "textarea").fill("Are you there?")
    page.keyboard.press("Enter")
    wait_widget_answer(page, answers)
    assert shadow(page, ".cb-bubble").last.text_content() == "Back again."


_PLAYGROUND_RENDER_JS = """(src) => {
  const bubble = document.createElement('div');
  bubble.className = 'pg-md';
  bubble.style.width = '320px';
  document.body.appendChild(bubble);
  window.ChatbotWidget.renderMarkdown(src, bubble);
}"""


def render_in_playground(page, app_url: str, source: str) -> None:
    """``source`` rendered as the playground renders an answer (its Markdown renderer is the
    widget's), in a 320 px wide bubble appended to the playground's page."""
    page.goto(app_url + "/playground/")
    page.wait_for_selector("#pg-connect")  # the page's scripts (widget.js first) have run
    page.evaluate(_PLAYGROUND_RENDER_JS, source)
