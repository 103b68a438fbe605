"""A request naming two different credentials (X-API-Key and an Authorization Bearer value)
is a 401 on every entry point: the Django views, the fast lane of /v1/chat and /v1/retrieve,
the OpenAI routes. X-API-Key used to win silently, so a request ran under a key its sender may
not have meant (a staff token in Authorization was ignored)."""

from __future__ import annotations

import json

import httpx
import pytest
from asgiref.sync import async_to_sync

from tenants.auth import TWO_CREDENTIALS

pytestmark = pytest.mark.django_db(transaction=True)

ROUTES = [
    ("get", "/v1/bots", None),
    ("post", "/v1/retrieve", {"bot": "helper", "query": "throttling"}),
    ("post", "/v1/chat", {"bot": "helper", "message": "What is throttling?"}),
    ("get", "/v1/openai/models", None),
]


def _call(method: str, path: str, body, headers: dict[str, str]) -> httpx.Response:
    from chatbot_project.asgi import application

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            content = json.dumps(body).encode() if body is not None else None
            headers_ = {"Content-Type": "application/json", **headers}
            return await client.request(method, path, content=content, headers=headers_)

    return async_to_sync(go)()


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_two_different_credentials_are_a_401(kb, make_key, settings, method, path, body):
    settings.CHAT_PROVIDER = "extractive"
    mine, other = make_key(kb.tenant), make_key(kb.tenant, permissions=("read",))
    res = _call(method, path, body, {"X-API-Key": other, "Authorization": f"Bearer {mine}"})
    assert res.status_code == 401, res.text
    error = res.json()["error"]  # (the OpenAI routes add OpenAI's code and param)
    assert (error["type"], error["message"]) == ("authentication_failed", TWO_CREDENTIALS)
    jwt_like = {"X-API-Key": mine, "Authorization": "Bearer eyJhbGciOi.e30.sig"}
    assert _call(method, path, body, jwt_like).status_code == 401


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
        res = _call(method, path, body, headers)
        assert res.status_code == 200, (headers, res.text)
