"""Which 409s offer Retry, in headless Chromium: /v1/chat answers 409 ``conflict`` for a
conversation still answering its previous message (with Retry-After: sending again soon works)
and for a conversation whose bot was deleted (no Retry-After: sending it again in the same
conversation can never work, "start a new conversation"). The widget offered Retry for both.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import json

from conversations.tests.browser_demo import QUESTION, ask_widget, shadow, site_page
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS

BUSY = (
    "This conversation is still answering its previous message; send the next one once that "
    "answer has ended (or cancel it)."
)
GONE = (
    "This conversation's bot was deleted, so it cannot be continued; start a new conversation "
    "(send no conversation_id)."
)


def _answer_409(page, origin: str, message: str, retry_after: str | None) -> None:
    def handle(route):
        headers = {
            "content-type": "application/json",
            "access-control-allow-origin": origin,
            "access-control-expose-headers": "retry-after, x-request-id",
        }
        if retry_after:
            headers["retry-after"] = retry_after
        body = {"error": {"type": "conflict", "message": message}}
        route.fulfill(status=409, headers=headers, body=json.dumps(body))

    page.route("**/v1/chat", handle)


def test_only_a_busy_conversations_409_offers_retry(
    browser, streaming_app, third_party_site, tenant
):
    url = site_page(third_party_site, streaming_app, tenant, "conflicts")
    origin = third_party_site.base_url.rstrip("/")
    for message, retry_after, offered in ((BUSY, "1", 1), (GONE, None, 0)):
        with new_page(browser, DESKTOP) as (page, _):
            _answer_409(page, origin, message, retry_after)
            page.goto(url)
            ask_widget(page, QUESTION)
            assert message in shadow(page, ".cb-status").last.text_content()
            assert shadow(page, ".cb-retry").count() == offered, message
