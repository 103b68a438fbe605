"""With the database down every chat route is a 503 ``unavailable`` with ``Retry-After``, as
the DRF routes are and as the README promises: POST /v1/chat (through the fast lane, and through
Django as every browser request with an Origin goes), /v1/retrieve and the OpenAI-compatible
route answered 500 ``internal_error`` (Django's handler500 runs in another thread for async
views, where the exception is gone)."""

from __future__ import annotations

import httpx
import pytest

from apikeys import keys
from chatbot_project.testing import processes
from chatbot_project.testing.processes import start_server, stop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("fast_lane", ["true", "false"])
def test_chat_routes_answer_503_while_the_database_is_down(fast_lane):
    url = processes.test_database_url()
    missing = url.replace("/test_", "/missing_test_", 1)
    assert missing != url
    # As deployed (TESTING off: Django's connection pool, chat DB threads of their own).
    proc, base = start_server(DATABASE_URL=missing, FAST_LANE=fast_lane, TESTING="0", DEBUG="true")
    auth = {"Authorization": f"Bearer {keys.generate()}"}
    calls = [
        ("/v1/chat", {"bot": "b", "message": "hi"}, {}),
        ("/v1/chat", {"bot": "b", "message": "hi", "stream": True}, {}),
        ("/v1/chat", {"bot": "b", "message": "hi"}, {"Origin": "https://shop.example"}),
        ("/v1/retrieve", {"bot": "b", "query": "hi"}, {}),
        ("/v1/openai/chat/completions", {"model": "b", "messages": [
            {"role": "user", "content": "hi"}]}, {}),
    ]  # fmt: skip
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for path, body, extra in calls:
                res = client.post(path, json=body, headers={**auth, **extra})
                assert res.status_code == 503, (path, extra, res.status_code, res.text)
                assert res.json()["error"]["type"] == "unavailable", (path, res.text)
                assert res.headers["Retry-After"] == "5", path
                if extra:  # a browser can read it (the widget then says the service is down)
                    assert res.headers["Access-Control-Allow-Origin"] == extra["Origin"]
            listed = client.get("/v1/bots", headers={**auth, "Origin": "https://shop.example"})
            assert listed.status_code == 503, listed.text  # a DRF route, as before
            assert listed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    finally:
        stop(proc)
