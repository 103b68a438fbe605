"""POST /v1/messages/{id}/feedback takes JSON only (API.md), like every other route; a form or
multipart body is a 415, and nothing is recorded."""

from __future__ import annotations

import pytest

from conversations.models import Message
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]


@pytest.fixture
def answer_id(client, key, settings) -> str:
    settings.CHAT_PROVIDER = "extractive"
    status, body = chat(client, key, bot="helper", message="What is throttling?")
    assert status == 200
    return body["message_id"]


def _post(client, key, answer_id, data, content_type):
    return client.post(
        f"/v1/messages/{answer_id}/feedback", data, content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("rating=up&comment=nice", "application/x-www-form-urlencoded"),
        ("rating=down", "text/plain"),
    ],
)
def test_feedback_that_is_not_json_is_a_415(client, key, answer_id, data, content_type):
    res = _post(client, key, answer_id, data, content_type)
    assert res.status_code == 415, res.content
    assert res.json()["error"]["type"] == "unsupported_media_type"
    assert Message.objects.get(id=answer_id).feedback_rating == ""


def test_multipart_feedback_is_a_415(client, key, answer_id):
    res = client.post(
        f"/v1/messages/{answer_id}/feedback", {"rating": "up"},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert res.status_code == 415
    assert Message.objects.get(id=answer_id).feedback_rating == ""


def test_json_feedback_is_recorded(client, key, answer_id, other_tenant, make_key):
    res = _post(client, key, answer_id, {"rating": "up", "comment": "nice"}, "application/json")
    assert res.status_code == 200
    assert res.json()["feedback"]["rating"] == "up"
    theirs = _post(
        client, make_key(other_tenant), answer_id, {"rating": "down"}, "application/json"
    )
    assert theirs.status_code == 404
    assert Message.objects.get(id=answer_id).feedback_rating == "up"
