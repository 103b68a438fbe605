"""A browser key's requests without an Origin are counted per visitor on the real ASGI app too.

Plain POST /v1/chat and /v1/retrieve requests without an Origin are answered by the fast lane
(chatbot_project/fastlane.py), which knows no client address: a browser key's request there
(curl with the key copied from the site's page) was counted for the site alone, whatever
``slots.visitor_of`` says, so one person could still spend the site's whole allowance. The
lane now leaves browser keys to Django's path (browsers send an Origin, which it hands over
anyway). The Django test client never goes through the lane, hence this file.
"""

from __future__ import annotations

import json

import httpx
import pytest
from asgiref.sync import async_to_sync

from chatbot_project.testing.openai_stub import Script

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::Warning"),
]

SHOP = "https://shop.example"
Q = "How do I limit anonymous clients per day?"


def _post(key: str, path: str, payload: dict) -> httpx.Response:
    from chatbot_project.asgi import application

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=application, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.post(
                path,
                content=json.dumps(payload).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )

    return async_to_sync(go)()


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/v1/chat", {"bot": "helper", "message": Q}),
        ("/v1/retrieve", {"bot": "helper", "query": Q}),
    ],
)
def test_a_browser_keys_request_without_origin_counts_for_its_visitor(
    settings, kb, make_key, openai_stub, path, payload
):
    settings.VISITOR_RATE_LIMIT = "2/m"
    openai_stub.script = Script(reply="ok")
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP], rate_limit="100/m")
    statuses = [_post(browser, path, payload).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = _post(browser, path, payload)
    assert "one visitor of this site" in refused.json()["error"]["message"]
    server = make_key(kb.tenant, ("chat",))  # a server-side key: its own limit alone
    assert [_post(server, path, payload).status_code for _ in range(3)] == [200, 200, 200]
