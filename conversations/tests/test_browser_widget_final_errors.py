"""Retry only where sending again can work, and data-theme in any case, in headless Chromium.

Repro (review of the widget's Retry and dark mode): an SSE ``error`` event of any type offered
Retry, also ``authentication_failed`` (a key revoked mid-answer) or ``not_found``, which the same
request can never get past; ``data-theme="Dark"`` fell back to "auto".

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import json

import pytest

from conversations.tests.browser_demo import QUESTION, WIDGET, ask_widget, shadow, site_page
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

THEME_JS = f"""() => document.querySelector('{WIDGET}').shadowRoot
  .querySelector('[data-theme]').getAttribute('data-theme')"""


def _stream_error(page, origin: str, error_type: str, message: str) -> None:
    def handle(route):
        start = {"conversation_id": "00000000-0000-0000-0000-000000000001", "message_id": None}
        error = {"error": {"type": error_type, "message": message}}
        body = (
            f"event: start\ndata: {json.dumps(start)}\n\n"
            f"event: error\ndata: {json.dumps(error)}\n\n"
        )
        route.fulfill(
            status=200,
            headers={
                "content-type": "text/event-stream",
                "access-control-allow-origin": origin,
                "access-control-expose-headers": "x-request-id",
            },
            body=body,
        )

    page.route("**/v1/chat", handle)


@pytest.mark.parametrize(
    ("error_type", "offered"),
    [
        ("upstream_error", 1),
        ("unavailable", 1),
        ("authentication_failed", 0),
        ("permission_denied", 0),
        ("not_found", 0),
        ("invalid_request", 0),
    ],
)
def test_a_streamed_error_offers_retry_only_when_sending_again_can_work(
    browser, streaming_app, third_party_site, tenant, error_type, offered
):
    url = site_page(third_party_site, streaming_app, tenant, f"final-{error_type}")
    origin = third_party_site.base_url.rstrip("/")
    message = f"The answer failed ({error_type})."
    with new_page(browser, DESKTOP) as (page, _):
        _stream_error(page, origin, error_type, message)
        page.goto(url)
        ask_widget(page, QUESTION)
        shadow(page, ".cb-status").last.wait_for()
        page.wait_for_function(
            f"() => !document.querySelector('{WIDGET}').shadowRoot.querySelector('.cb-streaming')"
        )
        assert message in shadow(page, ".cb-status").last.text_content()
        assert shadow(page, ".cb-retry").count() == offered, error_type


def test_data_theme_is_read_in_any_case(browser, streaming_app, third_party_site, tenant):
    name = "theme-case"
    url = site_page(third_party_site, streaming_app, tenant, name)
    path = f"/{name}.html"
    third_party_site.pages[path] = third_party_site.pages[path].replace(
        "data-bot=", 'data-theme=" Dark " data-bot='
    )
    with new_page(browser, DESKTOP) as (page, problems):
        page.emulate_media(color_scheme="light")
        page.goto(url)
        shadow(page, ".cb-launcher").wait_for()
        assert page.evaluate(THEME_JS) == "dark"
        assert problems == []
