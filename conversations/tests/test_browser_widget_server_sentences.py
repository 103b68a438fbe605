"""The server's sentences in the widget's language (headless Chromium, the real ASGI app, the stub
model). Before, a German or Arabic widget showed the server's English `message` (API.md's error
body, or an SSE `error` event) in its own chrome: "No such bot, or it is not visible to this
credential.", "The assistant cannot answer right now; ...", "The message is 40 characters long;
...". Now the widget says each known error type in its language (docs/widget.md, "Languages": the
error* texts), with the numbers the server gives (a scope's max_input_chars, Retry-After); an
English widget keeps the server's own sentences.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from apikeys.models import APIKey
from bots.models import Bot, Scope
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import QUESTION, shadow, site_page, wait_widget_answer
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

SHORT_QUESTION = "Wie lange dauert es?"  # within the scope's 30 characters
LONG_QUESTION = "Wie lange dauert die Lieferung nach Wien?"  # 41 characters, over them


def _page(site, app, tenant, name: str, attrs: str = "", bot: str | None = None) -> str:
    """A third-party page whose widget tag carries `attrs` (and data-bot=`bot`, when given)."""
    url = site_page(site, app, tenant, name)
    path = f"/{name}.html"
    html = site.pages[path].replace("data-bot=", f"{attrs} data-bot=")
    site.pages[path] = html.replace(f'data-bot="{name}"', f'data-bot="{bot or name}"')
    return url


def _short_scope(tenant, slug: str) -> None:
    """The bot's default scope accepts questions of 30 characters at most."""
    bot = Bot.objects.get(tenant=tenant, slug=slug)
    bot.default_scope = Scope.objects.create(
        tenant=tenant, name="short", slug=f"{slug}-short", max_input_chars=30
    )
    bot.save()


def _ask(page, question: str, answers: int) -> str:
    """Send `question` (the panel opened first when closed) and return the status sentence
    under answer number `answers`."""
    if shadow(page, ".cb-launcher").get_attribute("aria-expanded") != "true":
        shadow(page, ".cb-launcher").click()
    shadow(page, "textarea").fill(question)
    page.keyboard.press("Enter")
    wait_widget_answer(page, answers)
    return shadow(page, ".cb-status").last.text_content()


def test_german_sentences_for_the_servers_errors(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    url = _page(third_party_site, streaming_app, tenant, "sentde", 'data-lang="de"')
    _short_scope(tenant, "sentde")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        openai_stub.script = Script(reply="unused", status=500)  # upstream_error (an SSE event)
        assert _ask(page, SHORT_QUESTION, 1) == (
            "Der Assistent kann gerade nicht antworten. Bitte versuchen Sie es gleich noch einmal."
        )
        assert shadow(page, ".cb-retry").count() == 1
        # invalid_request with the scope's limit in its details: the number kept.
        assert _ask(page, LONG_QUESTION, 2) == (
            "Ihre Nachricht ist zu lang: Erlaubt sind höchstens 30 Zeichen. Bitte kürzen Sie sie "
            "und versuchen Sie es erneut."
        )
        assert problems == []


def test_a_german_no_such_bot_sentence(browser, streaming_app, third_party_site, tenant):
    url = _page(third_party_site, streaming_app, tenant, "nobotde", 'data-lang="de"', bot="gone")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        assert _ask(page, QUESTION, 1) == (
            "Dieser Chat ist nicht verfügbar: Sein Bot oder Bereich wurde nicht gefunden. Wenn Sie "
            "diese Website betreiben, prüfen Sie data-bot und data-scope des Widgets."
        )
        assert problems == []


def test_a_german_rate_limit_sentence_with_the_servers_seconds(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hallo.", token_delay=0)
    url = _page(third_party_site, streaming_app, tenant, "limitde", 'data-lang="de"')
    APIKey.objects.filter(name="limitde site").update(rate_limit="1/m")
    with new_page(browser, DESKTOP) as (page, problems):
        waits = []
        page.on(
            "response",
            lambda r: waits.append(r.headers.get("retry-after")) if r.status == 429 else None,
        )
        page.goto(url)
        _ask(page, QUESTION, 1)
        sentence = _ask(page, "Und noch eine Frage?", 2)
        seconds = int(waits[0])
        assert 1 < seconds <= 60
        assert sentence == (
            "Dieser Chat erhält gerade zu viele Nachrichten. Bitte warten Sie "
            f"{seconds} Sekunden und versuchen Sie es dann erneut."
        ), sentence
        assert problems == []


def test_english_keeps_the_servers_sentences(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    url = _page(third_party_site, streaming_app, tenant, "senten")
    _short_scope(tenant, "senten")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        openai_stub.script = Script(reply="unused", status=500)
        assert _ask(page, SHORT_QUESTION, 1) == (
            "The assistant cannot answer right now; please try again in a moment."
        )
        assert _ask(page, LONG_QUESTION, 2) == (
            "The message is 41 characters long; this scope accepts at most 30. "
            "Shorten the question and try again."
        )
        assert problems == []

    url = _page(third_party_site, streaming_app, tenant, "noboten", bot="gone")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        assert _ask(page, QUESTION, 1) == "No such bot, or it is not visible to this credential."
        assert problems == []


def test_a_german_refusal_reason(browser, streaming_app, third_party_site, tenant):
    # The site's key lost its `chat` permission: a readable 403 whose reason reads in German too.
    url = _page(third_party_site, streaming_app, tenant, "permde", 'data-lang="de"')
    APIKey.objects.filter(name="permde site").update(permissions=["read"])
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        assert _ask(page, QUESTION, 1) == (
            "Abgelehnt: Der Schlüssel dieser Website darf diesen Chat nicht verwenden. Wenn Sie "
            "diese Website betreiben, prüfen Sie die Berechtigungen des Schlüssels."
        )
        assert shadow(page, "textarea").get_attribute("placeholder") == "Chat nicht verfügbar"
        assert problems == []
