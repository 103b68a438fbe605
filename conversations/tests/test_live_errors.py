"""Errors that end a non-streamed chat after it began (the real server, fast lane and Django):
the JSON answer's status is the one API.md gives the error's type."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.utils import timezone

from apikeys.models import APIKey
from chatbot_project.testing.openai_stub import Script
from conversations.tests.live_fixtures import QUESTION

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROUTES = [
    ("/v1/chat", {"bot": "helper", "message": QUESTION}),
    ("/v1/openai/chat/completions",
     {"model": "helper", "messages": [{"role": "user", "content": QUESTION}]}),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_key_revoked_while_answering_is_a_401_not_a_502(live, path, body):
    base, key, stub = live
    gate = threading.Event()  # the model holds its last token until the test is done
    stub.script = Script(reply="An answer that outlives its key.", hold_last=gate)
    result: dict[str, httpx.Response] = {}

    def ask() -> None:
        result["res"] = httpx.post(
            f"{base}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=90
        )

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        assert stub.wait_for(lambda: len(stub.chat_requests()) == 1, 60)  # (first: model load)
        APIKey.objects.update(revoked_at=timezone.now())
        asker.join(15)
    finally:
        gate.set()
        asker.join(15)
    res = result["res"]
    assert res.json()["error"]["type"] == "authentication_failed"
    assert res.status_code == 401, res.text
