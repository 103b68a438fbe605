"""The widget's own texts in the site's language (headless Chromium, the real ASGI app, the stub
model). Before, every text of the widget's chrome was English whatever the site: a German or
Arabic site got "Send message", "Answers come from our documents..." and English outage and
refusal sentences around answers in its language. Now `data-lang` (else the page's <html lang>
when built in: en, de, fr, es, ar) picks the texts, an Arabic panel runs right to left, and
`data-texts` (or the JS API's mount) overrides any of them; an unknown language reads English and
a malformed data-texts is ignored with a console warning (docs/widget.md, "Languages").

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import socket

from apikeys.models import APIKey
from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    QUESTION,
    send_widget,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

CHROME_JS = """() => {
  const root = document.querySelector('chatbot-widget').shadowRoot;
  const attr = (sel, name) => root.querySelector(sel).getAttribute(name);
  return {launcher: attr('.cb-launcher', 'aria-label'), send: attr('.cb-send', 'aria-label'),
          sendTitle: attr('.cb-send', 'title'), stop: attr('.cb-stop', 'aria-label'),
          newTitle: attr('.cb-new', 'title'), close: attr('.cb-close', 'aria-label'),
          input: attr('textarea', 'aria-label'), placeholder: attr('textarea', 'placeholder'),
          footnote: root.querySelector('.cb-footnote').textContent,
          title: root.querySelector('.cb-title').textContent,
          greeting: root.querySelector('.cb-msg--greeting').textContent,
          dir: attr('.cb-panel', 'dir'), lang: attr('.cb-root', 'lang')};
}"""


def _page(site, app, tenant, name: str, attrs: str = "", html_lang: str = "en") -> str:
    """A third-party page whose widget tag carries `attrs`, in a document of `html_lang`."""
    url = site_page(site, app, tenant, name)
    path = f"/{name}.html"
    site.pages[path] = (
        site.pages[path]
        .replace("data-bot=", f"{attrs} data-bot=")
        .replace('<html lang="en">', f'<html lang="{html_lang}">')
    )
    return url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(page) -> str:
    page.wait_for_function(
        """() => [...document.querySelector('chatbot-widget').shadowRoot
             .querySelectorAll('.cb-status')]
             .some((s) => !s.hidden && !s.className.includes('pending'))"""
    )
    return shadow(page, ".cb-status").last.text_content()


def test_data_lang_de_gives_german_chrome_and_sentences(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hallo.", token_delay=0)
    url = _page(third_party_site, streaming_app, tenant, "langde", 'data-lang="de-AT"')
    key = APIKey.objects.get(name="langde site")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").wait_for(state="attached")
        chrome = page.evaluate(CHROME_JS)
        assert chrome["send"] == "Nachricht senden", chrome
        assert chrome["footnote"] == (
            "Die Antworten stammen aus unseren Dokumenten und können Fehler enthalten."
        )
        assert chrome["launcher"] == "Chat öffnen: Fragen Sie unseren Assistenten"
        assert chrome["title"] == "Fragen Sie unseren Assistenten"
        assert chrome["greeting"].startswith("Hallo! Stellen Sie mir eine Frage")
        assert (chrome["stop"], chrome["newTitle"], chrome["close"]) == (
            "Antwort anhalten",
            "Neues Gespräch",
            "Chat schließen",
        )
        assert chrome["input"] == "Ihre Nachricht"
        assert chrome["placeholder"] == "Ihre Frage eingeben…"
        assert (chrome["dir"], chrome["lang"]) == ("ltr", "de")

        send_widget(page, QUESTION)
        wait_widget_answer(page, 1)
        assert shadow(page, ".cb-rate--up").get_attribute("aria-label") == "Hilfreich"
        shadow(page, ".cb-rate--up").click()
        shadow(page, ".cb-feedback-note--ok").wait_for()
        note = shadow(page, ".cb-feedback-note").text_content()
        assert note == "Bewertung gespeichert: hilfreich."

        # This site's origin taken off the key: the browser's CORS refusal, said in German.
        APIKey.objects.filter(pk=key.pk).update(allowed_origins=["https://elsewhere.example"])
        shadow(page, "textarea").fill("Noch da?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2)
        assert _status(page).startswith(
            f"Abgelehnt: Diese Website ({third_party_site.base_url}) darf diesen Chatbot nicht"
        )
        notice = shadow(page, ".cb-notice").text_content()
        assert notice.startswith("Nachrichten können nicht gesendet werden"), notice
        assert shadow(page, ".cb-notice-action").text_content() == "Erneut versuchen"
        assert shadow(page, "textarea").get_attribute("placeholder") == "Chat nicht verfügbar"
        assert problems == []


def test_a_german_outage_sentence(browser, streaming_app, third_party_site, tenant, openai_stub):
    # Nothing listens at data-api: the service out of reach, sent again by itself in 3 seconds.
    attrs = f'data-lang="de" data-api="http://127.0.0.1:{_closed_port()}"'
    url = _page(third_party_site, streaming_app, tenant, "langdeout", attrs)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        send_widget(page, QUESTION)
        assert _status(page) == (
            "Der Chat-Dienst ist nicht erreichbar. Ihre Frage wird in 3 Sekunden erneut gesendet."
        )
        assert shadow(page, ".cb-retry").text_content() == "Wiederholen"
        assert not shadow(page, "textarea").is_disabled()  # an outage, not a refusal
        assert problems == []


def test_an_arabic_page_gets_arabic_chrome_right_to_left(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply="The widget is added with one script tag.", token_delay=0)
    url = _page(third_party_site, streaming_app, tenant, "langar", html_lang="ar")
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").wait_for()
        chrome = page.evaluate(CHROME_JS)
        assert (chrome["dir"], chrome["lang"]) == ("rtl", "ar"), chrome
        assert chrome["send"] == "إرسال الرسالة"
        assert chrome["footnote"] == "تستند الإجابات إلى وثائقنا وقد تحتوي على أخطاء."
        assert chrome["launcher"] == "فتح المحادثة: اسأل مساعدنا"
        send_widget(page, QUESTION)
        wait_widget_answer(page, 1)
        # The header runs right to left: the title on the right, the close button on the left.
        title = shadow(page, ".cb-title").bounding_box()
        close = shadow(page, ".cb-close").bounding_box()
        assert close["x"] + close["width"] <= title["x"], (close, title)
        assert shadow(page, ".cb-rate--down").get_attribute("aria-label") == "غير مفيدة"
        # The answer keeps its own direction: its English paragraph is still left to right.
        assert shadow(page, ".cb-md p").last.evaluate(
            "p => { const r = document.createRange(); r.selectNodeContents(p.firstChild);"
            " const t = p.firstChild, a = document.createRange(), b = document.createRange();"
            " a.setStart(t, 0); a.setEnd(t, 1); b.setStart(t, t.length - 1); b.setEnd(t, t.length);"
            " return a.getBoundingClientRect().left < b.getBoundingClientRect().left; }"
        )
        assert problems == []


def test_data_texts_overrides_one_text(browser, streaming_app, third_party_site, tenant):
    attrs = """data-lang="de" data-texts='{"send": "Abschicken", "title": "Hilfe"}'"""
    url = _page(third_party_site, streaming_app, tenant, "langtexts", attrs)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        shadow(page, ".cb-launcher").wait_for(state="attached")
        chrome = page.evaluate(CHROME_JS)
        assert (chrome["send"], chrome["title"]) == ("Abschicken", "Hilfe"), chrome
        assert chrome["sendTitle"] == "Senden (Eingabetaste)"  # the others stay German
        assert chrome["launcher"] == "Chat öffnen: Hilfe"
        assert problems == []


def test_an_unknown_language_reads_english(browser, streaming_app, third_party_site, tenant):
    url = _page(third_party_site, streaming_app, tenant, "langit", html_lang="it")
    asked = _page(third_party_site, streaming_app, tenant, "langxx", 'data-lang="xx"')
    with new_page(browser, DESKTOP) as (page, problems):
        for target, dir_lang in ((url, (None, None)), (asked, ("ltr", "xx"))):
            page.goto(target)
            shadow(page, ".cb-launcher").wait_for(state="attached")
            chrome = page.evaluate(CHROME_JS)
            assert chrome["send"] == "Send message", chrome
            assert chrome["footnote"] == "Answers come from our documents and may contain mistakes."
            assert chrome["launcher"] == "Open chat: Ask our assistant"
            assert (chrome["dir"], chrome["lang"]) == dir_lang
        assert problems == []


def test_a_malformed_data_texts_still_mounts(
    browser, streaming_app, third_party_site, tenant, openai_stub
):
    openai_stub.script = Script(reply="Hello.", token_delay=0)
    bad = _page(third_party_site, streaming_app, tenant, "langbad", """data-texts='{"send": '""")
    wrong = _page(
        third_party_site, streaming_app, tenant, "langwrong",
        """data-lang="fr" data-texts='{"send": 3, "nope": "x", "close": "Fermer ça"}'""",
    )  # fmt: skip
    with new_page(browser, DESKTOP) as (page, problems):
        warnings: list[str] = []
        page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
        page.goto(bad)
        send_widget(page, QUESTION)
        wait_widget_answer(page, 1)
        assert shadow(page, ".cb-bubble").last.text_content() == "Hello."
        assert page.evaluate(CHROME_JS)["send"] == "Send message"
        assert len(warnings) == 1, warnings
        assert "data-texts" in warnings[0]

        page.goto(wrong)
        shadow(page, ".cb-launcher").wait_for(state="attached")
        chrome = page.evaluate(CHROME_JS)
        assert (chrome["send"], chrome["close"]) == ("Envoyer le message", "Fermer le chat"), chrome
        assert shadow(page, ".cb-close").get_attribute("title") == "Fermer ça"
        assert len(warnings) == 2, warnings
        assert '"send" is not a string' in warnings[1]
        assert '"nope" is not one of its texts' in warnings[1]
        assert problems == []


def test_the_js_api_mounts_with_a_language_and_texts(
    browser, streaming_app, third_party_site, tenant
):
    site_page(third_party_site, streaming_app, tenant, "langapi")
    key = third_party_site.pages["/langapi.html"].split('data-key="')[1].split('"')[0]
    third_party_site.pages["/langapi-js.html"] = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>api</title></head><body>
<script id="chat" src="{streaming_app.base_url}/static/chatbot/widget.js"></script>
<script>
  var tag = document.getElementById("chat");
  tag.dataset.bot = "langapi";
  tag.dataset.key = "{key}";
  ChatbotWidget.mount(tag, {{ lang: "es", texts: {{ footnote: "Respuestas automáticas." }} }});
</script></body></html>"""
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/langapi-js.html"))
        shadow(page, ".cb-launcher").wait_for(state="attached")
        chrome = page.evaluate(CHROME_JS)
        assert (chrome["send"], chrome["footnote"]) == ("Enviar mensaje", "Respuestas automáticas.")
        assert problems == []
