"""The widget when the way to the chat server fails in ways a visitor cannot tell apart: a
connection that stalls mid-answer without closing (it gives up after a few of the server's
keep-alive intervals, announced in X-SSE-Ping-Seconds, and the next question works), a host
page whose Content-Security-Policy leaves the chat server out of connect-src (named in the
console for the site owner, not blamed on the visitor's connection), and widget.js hosted on
the customer's own site without data-api (the 404 is their own server's, not a wrong data-bot).

Headless Chromium against the real ASGI app with the stub model (browser_fixtures.py), its
keep-alive ping every half second so that a stall is found within 1.5 s.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

from chatbot_project.testing.openai_stub import Script
from conversations.tests.browser_demo import (
    QUESTION,
    ask_widget,
    assert_partial_kept_then_recovers,
    shadow,
    site_page,
    wait_widget_answer,
)
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    _serve,
    new_page,
    stub_provider,
)
from conversations.tests.tcp_faults import faulty_proxy

pytestmark = BROWSER_TEST_MARKS

PING_SECONDS = 0.5  # the widget gives up after 3 of them without a byte


@pytest.fixture(scope="module")
def pinging_app(django_db_setup, tmp_path_factory, _openai_stub_server):
    """streaming_app's server, its keep-alive ping every PING_SECONDS."""
    with _serve(
        tmp_path_factory,
        **stub_provider(_openai_stub_server),
        SSE_PING_SECONDS=str(PING_SECONDS),
    ) as app:
        yield app


def test_a_stalled_connection_is_given_up_and_the_next_question_works(
    browser, pinging_app, third_party_site, tenant, openai_stub
):
    """The widget waited for bytes that never came until the visitor pressed Stop."""
    proxy, armed = faulty_proxy(urlparse(pinging_app.base_url).port, "stall")
    url = site_page(third_party_site, pinging_app, tenant, "stalled")
    page_html = third_party_site.pages["/stalled.html"]
    third_party_site.pages["/stalled.html"] = page_html.replace(
        "data-bot=", f'data-api="{proxy}" data-bot='
    )
    # A model silent for longer than the stall timeout: its pings keep the answer alive.
    openai_stub.script = Script(reply="Slow but sure.", first_token_delay=2.5)
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(url)
        ask_widget(page, QUESTION)
        assert shadow(page, ".cb-bubble").last.text_content() == "Slow but sure."
        assert shadow(page, ".cb-status").last.is_hidden()

        openai_stub.script = Script(reply="word " * 100, token_delay=0.02)
        armed.set()
        shadow(page, "textarea").fill("And then?")
        page.keyboard.press("Enter")
        wait_widget_answer(page, 2, timeout=8_000)  # 1.5 s after the stall
        assert_partial_kept_then_recovers(
            page, openai_stub, "The connection stalled before the answer finished.", answers=3
        )
        assert problems == []


def test_a_page_whose_csp_blocks_the_chat_server_says_so_to_its_owner(
    browser, pinging_app, third_party_site, tenant, openai_stub
):
    """Visitors read "Could not reach the chat service. Check your connection" (it was never
    their connection) and the site owner had only Chromium's own console line to go on."""
    app = pinging_app.base_url
    url = site_page(third_party_site, pinging_app, tenant, "csp")
    page_html = third_party_site.pages["/csp.html"]  # without its inline style
    inline = ' style="font-family: Georgia, serif"'
    third_party_site.pages["/csp.html"] = page_html.replace(inline, "")
    third_party_site.headers["/csp.html"] = {
        "Content-Security-Policy": f"default-src 'self'; script-src {app}; style-src {app}; "
        "connect-src 'self'"
    }
    openai_stub.script = Script(reply="Never asked.")
    with new_page(browser, DESKTOP) as (page, problems):
        warnings: list[str] = []
        page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
        page.goto(url)
        ask_widget(page, QUESTION)
        assert shadow(page, ".cb-msg--error .cb-status").text_content() == (
            "The chat is unavailable on this page. If you run this site, see the browser console."
        )
        assert warnings == [
            f"Chatbot widget: this page's Content-Security-Policy blocks the chat server {app}. "
            "If you run this site, allow it in connect-src."
        ]
        assert problems  # Chromium's own lines, about the chat requests only
        assert all("/v1/" in p for p in problems), problems
        assert shadow(page, ".cb-send").is_visible()
    assert openai_stub.chat_requests() == []


def test_widget_js_hosted_by_the_site_without_data_api_names_data_api(browser):
    """A customer serving widget.js from their own site without data-api: the chat went to
    their own server, whose 404 the widget blamed on data-bot."""
    static = Path(settings.BASE_DIR) / "static" / "chatbot"
    site = "http://shop.test"
    page_html = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
</head><body><h1>Shop</h1><script src="/assets/widget.js" data-bot="support"
data-key="cb_browser_key" async></script></body></html>"""

    def serve(route) -> None:  # a static host: its files, and 404 for anything else (POST too)
        path = urlparse(route.request.url).path
        if path == "/":
            route.fulfill(body=page_html, content_type="text/html")
        elif path in ("/assets/widget.js", "/assets/widget.css"):
            kind = "text/javascript" if path.endswith(".js") else "text/css"
            route.fulfill(path=str(static / Path(path).name), content_type=kind)
        else:
            route.fulfill(status=404, body="<h1>Not Found</h1>", content_type="text/html")

    with new_page(browser, DESKTOP) as (page, problems):
        page.route(f"{site}/**", serve)
        page.goto(site + "/")
        ask_widget(page, QUESTION)
        assert shadow(page, ".cb-msg--error .cb-status").text_content() == (
            "The chat server was not found at http://shop.test (HTTP 404). If you run this "
            "site, set the widget's data-api to the chat server's address."
        )
        assert problems == []
