"""The Django admin under its Content-Security-Policy (chatbot_project/admin_site.py) in headless
Chromium: signed in with a verified one-time code, its pages (lists with filters and search,
add and change forms with raw-id, many-to-many and JSON widgets) work with no violation.

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import httpx

from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, DESKTOP, new_page
from conversations.tests.conftest import build_kb

pytestmark = BROWSER_TEST_MARKS

PAGES = [
    "/admin/",
    "/admin/tenants/tenant/",
    "/admin/bots/bot/add/",
    "/admin/bots/bot/{bot}/change/",
    "/admin/datasets/dataset/{dataset}/change/",
    "/admin/datasets/document/?status__exact=ready",
    "/admin/conversations/gaps/?period=30",
    "/admin/apikeys/apikey/add/",
    "/admin/auth/user/",
    "/admin/auth/user/{user}/change/",
    "/admin/password_change/",
]


def test_admin_pages_work_under_their_content_security_policy(browser, live_app, tenant):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tenants.tests.factories import MembershipFactory, UserFactory

    kb = build_kb(tenant, slug="helper")
    user = UserFactory(username="operator", is_staff=True, is_superuser=True)
    MembershipFactory(user=user, tenant=tenant, role="owner")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    login = httpx.get(live_app.base_url + "/admin/login/")
    assert "script-src 'self'" in login.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in login.headers["Content-Security-Policy"]

    with new_page(browser, DESKTOP) as (page, problems):
        page.goto(live_app.base_url + "/admin/login/?next=/admin/")
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        page.fill("#id_username", "operator")
        page.fill("#id_password", "correct-horse-battery")
        page.fill("#id_otp_token", f"{code:0{device.digits}d}")
        with page.expect_navigation():
            page.click("input[type=submit]")
        if page.locator("#id_otp_device option", has_text="phone").count():
            page.select_option("#id_otp_device", label="phone")
            page.fill("#id_password", "correct-horse-battery")
            page.fill("#id_otp_token", f"{code:0{device.digits}d}")
            page.click("input[type=submit]")
        page.wait_for_url(live_app.base_url + "/admin/")
        for path in PAGES:
            url = live_app.base_url + path.format(
                bot=kb.bot.pk, dataset=kb.dataset.pk, user=user.pk
            )
            response = page.goto(url)
            assert response.status == 200, (path, response.status)
            assert "script-src 'self'" in response.headers["content-security-policy"], path
            page.wait_for_load_state("load")
        # The admin's scripts ran: the user's groups selector was built by SelectFilter2.js.
        page.goto(live_app.base_url + f"/admin/auth/user/{user.pk}/change/")
        page.wait_for_selector(".selector")
        assert problems == []
