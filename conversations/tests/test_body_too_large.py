"""A JSON body over MAX_JSON_BODY_BYTES on the async chat routes is API.md's 413
payload_too_large (a long OpenAI `messages` history is the usual way to get there), with DEBUG
on or off: with DEBUG on it was Django's debug page, turned into a bare 400 'The request
failed.'."""

from __future__ import annotations

import json

import pytest

from conversations.models import Conversation

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

BIG = "word " * 50_000  # 250 kB per message


def _bodies() -> dict[str, dict]:
    history = [{"role": "user", "content": BIG}, {"role": "assistant", "content": BIG}] * 5
    return {
        "/v1/chat": {"bot": "helper", "message": "hi", "metadata": {"note": BIG * 10}},
        "/v1/retrieve": {"bot": "helper", "query": "hi", "mode": "keyword", "top_k": 1,
                         "scope": BIG * 10},
        "/v1/openai/chat/completions": {
            "model": "helper", "messages": [*history, {"role": "user", "content": "hi"}],
        },
    }  # fmt: skip


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", list(_bodies()))
def test_json_body_over_the_limit_is_a_413(client, key, settings, path, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
    body = json.dumps(_bodies()[path])
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    res = client.post(
        path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert res.status_code == 413, res.content[:300]
    error = res.json()["error"]
    assert error["type"] == "payload_too_large"
    assert "2,097,152-byte limit" in error["message"]
    assert not Conversation.objects.exists()
