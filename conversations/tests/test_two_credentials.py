"""A request naming two different credentials (X-API-Key and an Authorization Bearer value)
is a 401 on every entry point: the Django views, the fast lane of /v1/chat and /v1/retrieve,
the OpenAI routes. X-API-Key used to win silently, so a request ran under a key its sender may
not have meant (a staff token in Authorization was ignored)."""

from __future__ import annotations

import pytest

from conversations.tests.helpers import asgi_call
from tenants.auth import TWO_CREDENTIALS

pytestmark = pytest.mark.django_db(transaction=True)

ROUTES = [
    ("get", "/v1/bots", None),
    ("post", "/v1/retrieve", {"bot": "helper", "query": "throttling"}),
    ("post", "/v1/chat", {"bot": "helper", "message": "What is throttling?"}),
    ("get", "/v1/openai/models", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_two_different_credentials_are_a_401(kb, make_key, settings, method, path, body):
    settings.CHAT_PROVIDER = "extractive"
    mine, other = make_key(kb.tenant), make_key(kb.tenant, permissions=("read",))
    res = asgi_call(method, path, body, {"X-API-Key": other, "Authorization": f"Bearer {mine}"})
    assert res.status_code == 401, res.text
    error = res.json()["error"]  # (the OpenAI routes add OpenAI's code and param)
    assert (error["type"], error["message"]) == ("authentication_failed", TWO_CREDENTIALS)
    jwt_like = {"X-API-Key": mine, "Authorization": "Bearer eyJhbGciOi.e30.sig"}
    assert asgi_call(method, path, body, jwt_like).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_the_same_key_twice_or_beside_basic_auth_works(kb, make_key, settings, method, path, body):
    settings.CHAT_PROVIDER = "extractive"
    key = make_key(kb.tenant)
    for headers in (
        {"X-API-Key": key, "Authorization": f"Bearer {key}"},
        {"X-API-Key": key, "Authorization": "Basic dXNlcjpwYXNz"},  # a proxy's own sign-in
        {"X-API-Key": key},
        {"Authorization": f"Bearer {key}"},
    ):
        res = asgi_call(method, path, body, headers)
        assert res.status_code == 200, (headers, res.text)
