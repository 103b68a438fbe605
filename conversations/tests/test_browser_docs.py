"""/docs in headless Chromium against the real ASGI app: Swagger UI renders every operation
under its Content-Security-Policy, with no violation and no page error.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page

pytestmark = BROWSER_TEST_MARKS


def test_docs_render_under_their_content_security_policy(browser, live_app):
    with new_page(browser, DESKTOP) as (page, problems):
        res = page.goto(f"{live_app.base_url}/docs")
        assert "script-src 'self'" in res.headers["content-security-policy"]
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_text_contents()
        assert any("/v1/chat" in p for p in paths), paths[:10]
        # "Try it out" works with the page's own scripts: expand one operation.
        page.locator(".opblock-summary").first.click()
        page.wait_for_selector(".try-out__btn", timeout=5_000)
        assert not [c for c in page.context.cookies() if c["name"] == "csrftoken"]
        assert problems == []
