"""The OpenAI-compatible route from a web page of another origin, as the openai JS SDK calls it
with `dangerouslyAllowBrowser` (its default headers: User-Agent and the x-stainless-* ones), in
headless Chromium against the real ASGI app (uvicorn process, test database, extractive
provider): the browser's preflight must allow those headers, or every request fails before it
is sent ("Failed to fetch").

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import json

from apikeys.services import api_key_create
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page
from conversations.tests.conftest import build_kb

pytestmark = BROWSER_TEST_MARKS

# openai-node's buildHeaders in a browser (Chrome), chat.completions.create / .stream
SDK_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "User-Agent": "OpenAI/JS 5.23.0",
    "X-Stainless-Retry-Count": "0",
    "X-Stainless-Timeout": "600",
    "X-Stainless-Lang": "js",
    "X-Stainless-Package-Version": "5.23.0",
    "X-Stainless-OS": "Unknown",
    "X-Stainless-Arch": "unknown",
    "X-Stainless-Runtime": "browser:chrome",
    "X-Stainless-Runtime-Version": "120.0.0",
}
FETCH_JS = """async ([url, headers, body]) => {
  try {
    const res = await fetch(url, {method: 'POST', headers, body: JSON.stringify(body)});
    return [res.status, await res.text(), res.headers.get('x-ratelimit-remaining')];
  } catch (exc) {
    return ['failed', String(exc), null];
  }
}"""


def test_the_openai_js_sdks_requests_pass_the_browsers_preflight(
    browser, live_app, third_party_site, tenant
):
    kb = build_kb(tenant, slug="sdk")
    _, key = api_key_create(
        tenant=tenant, name="sdk site", permissions=["chat"], bots=[kb.bot],
        allowed_origins=[third_party_site.base_url],
    )  # fmt: skip
    third_party_site.pages["/sdk.html"] = "<!doctype html><title>SDK</title><p>shop</p>"
    url = f"{live_app.base_url}/v1/openai/chat/completions"
    question = {"role": "user", "content": "How do I limit anonymous clients per day?"}
    headers = {**SDK_HEADERS, "Authorization": f"Bearer {key}"}
    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(third_party_site.url("/sdk.html"))
        status, text, remaining = page.evaluate(
            FETCH_JS, [url, headers, {"model": "sdk", "messages": [question], "max_tokens": 30}]
        )
        assert status == 200, text  # was 'failed': TypeError: Failed to fetch (the preflight)
        body = json.loads(text)
        assert body["object"] == "chat.completion"
        assert body["choices"][0]["message"]["content"]
        assert remaining is not None  # exposed to the page
        # chat.completions.stream() adds its helper header and streams
        streamed = {**headers, "X-Stainless-Helper-Method": "stream", "Accept": "text/event-stream"}
        body = {"model": "sdk", "messages": [question], "stream": True}
        status, text, _ = page.evaluate(FETCH_JS, [url, streamed, body])
        assert status == 200, text
        assert text.rstrip().endswith("data: [DONE]")
        assert problems == []
