"""Every answer carries a Permissions-Policy turning off the browser's powerful features
(camera, microphone, location, payment, devices): no page of the app uses them. None was sent
(privacy and hardening review). Through the full chain (pages, admin, /docs, widget files), the
lean API chain and the fast lane alike; the widget still loads on other sites
(test_browser_widget)."""

from __future__ import annotations

import httpx
import pytest
from asgiref.sync import async_to_sync

from chatbot_project.csp import PERMISSIONS_POLICY

pytestmark = pytest.mark.django_db(transaction=True)


def _request(method: str, path: str, **kw) -> httpx.Response:
    from chatbot_project.asgi import application

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.request(method, path, **kw)

    return async_to_sync(go)()


def _features(value: str) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in value.split(","))


def test_the_policy_turns_off_powerful_features():
    features = _features(PERMISSIONS_POLICY)
    for name in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[name] == "()"
    assert set(features.values()) == {"()"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/demo/"),
        ("GET", "/playground/"),
        ("GET", "/docs"),
        ("GET", "/admin/login/"),
        ("GET", "/no-such-page/"),
        ("GET", "/static/chatbot/widget.js"),
        ("GET", "/v1/health"),  # probe, answered before the chain
        ("GET", "/v1/bots"),  # lean API chain, 401
        ("POST", "/v1/chat"),  # fast lane, 401
        ("POST", "/v1/retrieve"),  # fast lane, 401
    ],
)
def test_every_answer_carries_the_policy(method, path):
    kw = {"json": {"bot": "x", "message": "hi"}} if method == "POST" else {}
    res = _request(method, path, **kw)
    assert res.status_code != 500, res.text  # (/demo/ is a 503 page without a demo key)
    assert res.headers["Permissions-Policy"] == PERMISSIONS_POLICY, path


def test_the_django_test_client_path_too(client):
    res = client.get("/demo/")
    assert res["Permissions-Policy"] == PERMISSIONS_POLICY
