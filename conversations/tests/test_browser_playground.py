"""The playground in headless Chromium against the real ASGI app (uvicorn process, test database):
signed in with a staff key (streaming, citations, retrieved chunks, timings, feedback, past
conversations, phone layout) and with a verified (OTP) staff session instead of a key.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing;
screenshots land in ``artifacts/screenshots/``).
"""

from __future__ import annotations

import json
import re

from conversations.models import Conversation, Message
from conversations.tests.browser_demo import DEMO_DOCS, QUESTION, partial_states
from conversations.tests.browser_fixtures import (
    BROWSER_TEST_MARKS,
    DESKTOP,
    OBSERVE_JS,
    PHONE,
    new_page,
    screenshot,
)
from conversations.tests.conftest import build_kb

pytestmark = BROWSER_TEST_MARKS


def test_playground_streams_cites_shows_chunks_and_records_feedback(browser, streaming_app, demo):
    _, _, staff_key = demo
    with new_page(browser, DESKTOP) as (page, problems):
        res = page.goto(streaming_app.base_url + "/playground/")
        assert "script-src 'self'" in res.headers["content-security-policy"]
        screenshot(page, "playground-signin-desktop")
        page.fill("#pg-key", staff_key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        assert page.eval_on_selector("#pg-bot", "s => s.value") == "demo"
        # The key is kept only in sessionStorage.
        assert page.evaluate("sessionStorage.getItem('chatbot:playground:key')") == staff_key
        assert staff_key not in json.dumps(page.evaluate("Object.values(localStorage)"))

        page.evaluate(OBSERVE_JS, ["#playground", ".pg-msg-assistant .pg-bubble"])
        page.fill("#pg-input", QUESTION)
        page.keyboard.press("Enter")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])")
        assert len(set(partial_states(page))) >= 2, page.evaluate("window.__cbStates")

        answer = page.locator(".pg-msg-assistant .pg-bubble").last.text_content()
        assert "one script tag" in answer
        cites = page.locator(".pg-cite")
        assert cites.count() >= 1
        first = cites.first
        assert first.locator(".pg-cite-title").text_content() in DEMO_DOCS
        assert float(first.locator(".pg-score").text_content()) > 0
        assert first.locator(".pg-cite-snippet").text_content()
        page.wait_for_selector(".pg-chunk")
        assert page.locator(".pg-chunk").count() >= 1
        timings = page.locator("#pg-timings").text_content()
        assert re.search(r"First token[\d.]+ m?s", timings), timings
        assert re.search(r"Retrieval \(client\)[\d.]+ m?s", timings), timings

        page.click(".pg-fb-up")
        page.wait_for_selector(".pg-status-ok")
        assistant = Message.objects.get(role="assistant")
        assert assistant.feedback_rating == "up"
        assert page.locator(".pg-fb-up").get_attribute("aria-pressed") == "true"
        screenshot(page, "playground-desktop")

        # Past conversations: after a reload (key still in the tab) the conversation is listed
        # and opens with its feedback.
        page.reload()
        page.wait_for_selector(".pg-conv")
        page.click(".pg-conv")
        page.wait_for_selector(".pg-msg-assistant")
        assert page.locator(".pg-msg-assistant .pg-fb-up").get_attribute("aria-pressed") == "true"
        page.click(".pg-fb-down")
        page.wait_for_selector(".pg-status-ok")
        assistant.refresh_from_db()
        assert assistant.feedback_rating == "down"

        page.click("#pg-new")
        assert page.locator(".pg-msg-assistant").count() == 0
        assert problems == []

    with new_page(browser, PHONE) as (page, problems):
        page.goto(streaming_app.base_url + "/playground/")
        screenshot(page, "playground-signin-phone")
        page.fill("#pg-key", staff_key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        page.fill("#pg-input", QUESTION)
        page.click("#pg-send")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-up:not([disabled])")
        page.wait_for_selector(".pg-chunk")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the playground scrolls sideways on a phone"
        screenshot(page, "playground-phone", full_page=True)
        assert problems == []


def test_playground_with_a_verified_staff_session_needs_no_key(browser, live_app, tenant, client):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tenants.tests.factories import MembershipFactory, UserFactory

    build_kb(tenant, slug="helper")
    user = UserFactory(username="staffer", is_staff=True)
    MembershipFactory(user=user, tenant=tenant, role="owner")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    # Signed in without OTP: no credential is handed out.
    client.force_login(user)
    assert b'id="pg-session"' not in client.get("/playground/").content

    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(live_app.base_url + "/admin/login/?next=/playground/")
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        token = f"{code:0{device.digits}d}"
        page.fill("#id_username", "staffer")
        page.fill("#id_password", "correct-horse-battery")
        page.fill("#id_otp_token", token)
        with page.expect_navigation():
            page.click("input[type=submit]")
        if page.locator("#id_otp_device option", has_text="phone").count():
            # django-otp asks to pick the device once it knows the user.
            page.select_option("#id_otp_device", label="phone")
            page.fill("#id_password", "correct-horse-battery")
            page.fill("#id_otp_token", token)
            page.click("input[type=submit]")
        page.wait_for_url(live_app.base_url + "/playground/")
        # The admin's own CSS is not served with DEBUG off (no static server in tests): only the
        # playground's problems count from here on.
        problems.clear()
        page.wait_for_selector("#pg-app:not([hidden])")
        assert "Signed in as staffer" in page.locator("#pg-connected-as").text_content()
        assert page.evaluate("sessionStorage.length") == 0  # nothing stored: the page holds it
        page.fill("#pg-input", "How do I limit anonymous clients per day?")
        page.keyboard.press("Enter")
        page.wait_for_selector(".pg-msg-assistant:not(.pg-streaming) .pg-fb-down:not([disabled])")
        assert "AnonRateThrottle" in page.locator(".pg-msg-assistant .pg-bubble").text_content()
        page.click(".pg-fb-down")
        page.wait_for_selector(".pg-status-ok")
        assert Message.objects.get(role="assistant").feedback_rating == "down"
        assert Conversation.objects.get().user == "playground"
        assert problems == []


def test_playground_says_a_pasted_key_is_unusable_in_its_own_words(browser, live_app, tenant):
    """A 401 said "If you run this site, check the widget's data-key" (the widget's sentence)."""
    from apikeys.services import api_key_create, api_key_revoke

    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(live_app.base_url + "/playground/")
        page.fill("#pg-key", "cb_" + "x" * 48)
        page.click("#pg-connect")
        error = page.locator("#pg-auth-error")
        error.wait_for(state="visible")
        assert error.text_content() == (
            "This key is invalid, revoked or expired; check it (or create one) and connect again."
        )

        # Revoked while connected: the chat's error says the same.
        build_kb(tenant, slug="helper")
        row, key = api_key_create(tenant=tenant, name="staff", permissions=["chat", "read"])
        page.fill("#pg-key", key)
        page.click("#pg-connect")
        page.wait_for_selector("#pg-app:not([hidden])")
        api_key_revoke(tenant=tenant, key=row)
        page.fill("#pg-input", "How do I limit anonymous clients per day?")
        page.keyboard.press("Enter")
        chat_error = page.locator("#pg-chat-error")
        chat_error.wait_for(state="visible")
        assert chat_error.text_content().startswith("This key is invalid, revoked or expired")
        assert "data-key" not in page.locator("#playground").text_content()
        assert problems == []
