"""The openai JS SDK in a browser (`dangerouslyAllowBrowser`) sends, besides Authorization and
Content-Type, its User-Agent and x-stainless-* headers on every request: a preflight that does not
allow them all fails every request it makes. The browser itself is in
conversations/tests/test_browser_openai_sdk_cors.py."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

# What openai-node's buildHeaders sends by default from a browser (the helper ones from
# chat.completions.stream() / runTools(), OpenAI-Organization / -Project when configured).
SDK_HEADERS = [
    "accept", "authorization", "content-type", "user-agent", "x-stainless-arch",
    "x-stainless-lang", "x-stainless-os", "x-stainless-package-version", "x-stainless-retry-count",
    "x-stainless-runtime", "x-stainless-runtime-version", "x-stainless-timeout",
    "x-stainless-helper-method", "openai-organization", "openai-project",
]  # fmt: skip


@pytest.mark.parametrize(
    "path", ["/v1/openai/chat/completions", "/v1/openai/models", "/v1/chat", "/v1/retrieve"]
)
def test_a_preflight_allows_every_header_the_openai_js_sdk_sends(client, path):
    res = client.options(
        path,
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=",".join(SDK_HEADERS),
    )
    assert res.status_code == 200
    assert res["Access-Control-Allow-Origin"] == "https://shop.example"
    allowed = {h.strip() for h in res["Access-Control-Allow-Headers"].lower().split(",")}
    assert set(SDK_HEADERS) <= allowed, sorted(set(SDK_HEADERS) - allowed)


def test_the_sdk_in_a_page_may_read_whether_and_when_to_retry(tenant, make_key, client):
    key = make_key(tenant, ("chat",), allowed_origins=["https://shop.example"])
    res = client.get(
        "/v1/openai/models", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ORIGIN="https://shop.example"
    )
    assert res.status_code == 200
    exposed = {h.strip() for h in res["Access-Control-Expose-Headers"].lower().split(",")}
    assert {"retry-after", "x-should-retry"} <= exposed
