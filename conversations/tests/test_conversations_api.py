"""Conversations REST: list/filter, detail with messages, delete, feedback, usage; cross-tenant."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def convo(tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    conv = ConversationFactory(bot=bot, user="alice", message_count=2)
    MessageFactory(conversation=conv, role="user", content="Hi?")
    answer = MessageFactory(
        conversation=conv, role="assistant", content="Hello [1].", prompt_tokens=10,
        completion_tokens=5, total_tokens=15, latency_ms=120, model="stub-model",
        finish_reason="stop", citations=[{"index": 1, "document_title": "Doc"}],
    )  # fmt: skip
    return conv, answer


def test_list_and_filters(api, convo, tenant):
    conv, _ = convo
    ConversationFactory(bot=BotFactory(tenant=tenant, slug="other"), user="bob")
    res = api.get("/v1/conversations")
    body = res.json()
    assert res.status_code == 200
    assert len(body["data"]) == 2
    assert body["next"] is None
    assert set(body["data"][0]) == {
        "id", "bot", "bot_slug", "user", "scope", "title", "created_at", "updated_at",
        "message_count",
    }  # fmt: skip
    assert [c["id"] for c in api.get("/v1/conversations?user=alice").json()["data"]] == [
        str(conv.id)
    ]
    assert [c["id"] for c in api.get("/v1/conversations?bot=helper").json()["data"]] == [
        str(conv.id)
    ]
    by_id = api.get(f"/v1/conversations?bot={conv.bot_id}").json()["data"]
    assert [c["id"] for c in by_id] == [str(conv.id)]
    assert len(api.get("/v1/conversations?limit=1").json()["data"]) == 1


def test_detail_has_messages_oldest_first(api, convo):
    conv, _answer = convo
    body = api.get(f"/v1/conversations/{conv.id}").json()
    assert body["id"] == str(conv.id)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    msg = body["messages"][1]
    assert set(msg) == {
        "id", "role", "content", "citations", "usage", "latency_ms", "model", "finish_reason",
        "refused", "feedback", "created_at",
    }  # fmt: skip
    assert msg["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    assert msg["feedback"] is None


def test_delete_needs_write(api, client_for, convo, tenant):
    conv, _ = convo
    reader = client_for(tenant, permissions=("read", "chat"))
    assert reader.delete(f"/v1/conversations/{conv.id}").status_code == 403
    assert api.delete(f"/v1/conversations/{conv.id}").status_code == 204
    assert not Conversation.objects.filter(id=conv.id).exists()
    assert not Message.objects.filter(conversation_id=conv.id).exists()
    assert api.get(f"/v1/conversations/{conv.id}").status_code == 404


def test_feedback(client_for, convo, tenant):
    _, answer = convo
    chat_only = client_for(tenant, permissions=("chat",))
    res = chat_only.post(
        f"/v1/messages/{answer.id}/feedback", {"rating": "down", "comment": "Wrong."}, format="json"
    )
    assert res.status_code == 200, res.json()
    assert res.json()["feedback"]["rating"] == "down"
    # Written as every other timestamp ("...Z"; it was "...+00:00").
    assert res.json()["feedback"]["created_at"].endswith("Z")
    assert res.json()["created_at"].endswith("Z")
    answer.refresh_from_db()
    assert answer.feedback_rating == "down"
    assert answer.feedback_comment == "Wrong."
    assert answer.feedback_at is not None
    bad = chat_only.post(f"/v1/messages/{answer.id}/feedback", {"rating": "meh"}, format="json")
    assert bad.status_code == 400
    reader = client_for(tenant, permissions=("read",))
    res = reader.post(f"/v1/messages/{answer.id}/feedback", {"rating": "up"}, format="json")
    assert res.status_code == 403


def test_usage_per_day_and_bot(api, convo):
    res = api.get("/v1/usage")
    body = res.json()
    assert res.status_code == 200
    (row,) = body["data"]
    assert row["bot"] == "helper"
    assert row["messages"] == 2
    assert row["assistant_messages"] == 1
    assert row["total_tokens"] == 15
    assert row["avg_latency_ms"] == 120
    assert body["totals"]["total_tokens"] == 15
    assert api.get("/v1/usage?from=2000-01-01&to=2000-01-02").json()["data"] == []
    assert api.get("/v1/usage?bot=nope").json()["data"] == []
    assert api.get("/v1/usage?from=yesterday").status_code == 400


def test_usage_average_latency_of_zero_is_zero_not_null(api, convo):
    _conv, answer = convo
    type(answer).objects.filter(pk=answer.pk).update(latency_ms=0)
    (row,) = api.get("/v1/usage").json()["data"]
    assert (row["avg_latency_ms"], row["max_latency_ms"]) == (0.0, 0)


def test_cross_tenant_every_route(api, other_api, convo):
    conv, answer = convo
    assert other_api.get("/v1/conversations").json()["data"] == []
    assert other_api.get(f"/v1/conversations/{conv.id}").status_code == 404
    assert other_api.delete(f"/v1/conversations/{conv.id}").status_code == 404
    res = other_api.post(f"/v1/messages/{answer.id}/feedback", {"rating": "up"}, format="json")
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"
    assert other_api.get("/v1/usage").json()["data"] == []
    assert Conversation.objects.filter(id=conv.id).exists()
    answer.refresh_from_db()
    assert answer.feedback_rating == ""
