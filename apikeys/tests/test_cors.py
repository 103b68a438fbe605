"""Browser keys: allowed_origins enforced on the real request, preflights answered for /v1/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com"


def _browser(raw: str, origin: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ORIGIN=origin)
    return client


@pytest.mark.parametrize("path", ["/v1/chat", "/v1/bots", "/v1/openai/chat/completions"])
def test_preflight_is_answered_for_any_origin_on_v1(client, path):
    res = client.options(
        path,
        HTTP_ORIGIN="https://anywhere.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert res.status_code == 200
    assert res["Access-Control-Allow-Origin"] == "https://anywhere.example"
    allowed = res["Access-Control-Allow-Headers"].lower()
    for header in ("authorization", "content-type", "x-api-key"):
        assert header in allowed
    assert "POST" in res["Access-Control-Allow-Methods"]


def test_allowed_origin_gets_cors_headers(tenant, make_key):
    raw = make_key(tenant, ("read", "chat"), allowed_origins=[SHOP])
    res = _browser(raw, SHOP).get("/v1/bots")
    assert res.status_code == 200
    assert res["Access-Control-Allow-Origin"] == SHOP
    assert "x-ratelimit-remaining" in res["Access-Control-Expose-Headers"].lower()
    assert "origin" in res["Vary"].lower()


def test_other_origin_is_refused_with_403(tenant, make_key):
    raw = make_key(tenant, ("read", "chat"), allowed_origins=[SHOP])
    res = _browser(raw, "https://evil.example").get("/v1/bots")
    assert res.status_code == 403
    err = res.json()["error"]
    assert err["type"] == "permission_denied"
    assert "https://evil.example" in err["message"]
    assert "Access-Control-Allow-Origin" not in res


def test_server_side_use_without_origin_still_works(tenant, make_key):
    raw = make_key(tenant, ("read",), allowed_origins=[SHOP])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/v1/bots").status_code == 200


def test_key_without_origins_gets_no_cors_header(tenant, make_key):
    raw = make_key(tenant, ("read",))
    res = _browser(raw, SHOP).get("/v1/bots")
    assert res.status_code == 200
    assert "Access-Control-Allow-Origin" not in res


def test_origin_check_is_in_the_shared_resolver(tenant, make_key):
    from tenants.auth import resolve_context

    raw = make_key(tenant, ("chat",), allowed_origins=[SHOP])
    assert resolve_context({"X-API-Key": raw, "Origin": SHOP}) is not None
    assert resolve_context({"x-api-key": raw, "origin": "https://evil.example"}) is None


def test_cross_tenant_browser_key_sees_nothing(tenant, other_tenant, make_key):
    from bots.tests.factories import BotFactory

    bot = BotFactory(tenant=tenant)
    raw = make_key(other_tenant, ("read",), allowed_origins=[SHOP])
    res = _browser(raw, SHOP).get(f"/v1/bots/{bot.id}")
    assert res.status_code == 404


def test_origins_are_stored_as_browsers_send_them(tenant, api):
    res = api.post(
        "/v1/api-keys",
        {"name": "shop", "permissions": ["read"], "allowed_origins": [
            "HTTPS://Shop.Example.com:443", "http://shop.example.com:80/", "http://[::1]:8080",
            "https://shop.example.com",
        ]},
        format="json",
    )  # fmt: skip
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["allowed_origins"] == [
        "https://shop.example.com", "http://shop.example.com", "http://[::1]:8080",
    ]  # fmt: skip
    # The browser's Origin never carries the default port: the key works from the shop
    # (a key stored as given was refused there with 403).
    res = _browser(body["key"], SHOP).get("/v1/bots")
    assert res.status_code == 200, res.content
    assert res["Access-Control-Allow-Origin"] == SHOP


def test_a_stored_origin_with_its_default_port_matches(tenant, make_key):
    raw = make_key(tenant, ("read",), allowed_origins=["https://shop.example.com:443"])
    assert _browser(raw, SHOP).get("/v1/bots").status_code == 200
    assert _browser(raw, "https://shop.example.com:8443").get("/v1/bots").status_code == 403


def test_an_international_domain_is_stored_and_matched_as_browsers_send_it(tenant, api, make_key):
    """Browsers send an internationalised host in ``Origin`` in its ASCII (punycode) form; an
    origin given in Unicode was stored as given and never matched: the site's widget was
    always refused (403)."""
    res = api.post(
        "/v1/api-keys",
        {"name": "books", "permissions": ["read"], "allowed_origins": ["https://Bücher.de"]},
        format="json",
    )
    assert res.status_code == 201, res.content
    assert res.json()["allowed_origins"] == ["https://xn--bcher-kva.de"]
    books = _browser(res.json()["key"], "https://xn--bcher-kva.de")
    assert books.get("/v1/bots").status_code == 200
    # A key stored before (the admin's form stores what it is given) matches too.
    raw = make_key(tenant, ("read",), allowed_origins=["https://bücher.de"])
    assert _browser(raw, "https://xn--bcher-kva.de").get("/v1/bots").status_code == 200
    assert _browser(raw, "https://buecher.de").get("/v1/bots").status_code == 403
    bad = api.post(
        "/v1/api-keys",
        {"name": "x", "permissions": ["read"], "allowed_origins": ["https://bü..cher.de"]},
        format="json",
    )
    assert bad.status_code == 400, bad.content
