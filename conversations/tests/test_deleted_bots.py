"""A deleted bot's conversations stay (its transcripts and billed usage belong to the tenant):
Conversation.bot and Message.bot become NULL and the conversation remembers the bot's slug
(``bot_slug``). Lists, detail, usage and feedback keep working; a chat cannot continue such a
conversation (409); a key limited to bots never sees them; another tenant sees nothing."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

CONVERSATION_FIELDS = {
    "id", "bot", "bot_slug", "user", "scope", "title", "created_at", "updated_at", "message_count",
}  # fmt: skip


def _conversation(bot, *, tokens: int = 15) -> tuple[Conversation, Message]:
    conv = ConversationFactory(bot=bot, message_count=2)
    MessageFactory(conversation=conv, role="user", content="Hi?")
    answer = MessageFactory(
        conversation=conv, role="assistant", content="Hello.", prompt_tokens=10,
        completion_tokens=tokens - 10, total_tokens=tokens, latency_ms=100, model="stub-model",
        finish_reason="stop",
    )  # fmt: skip
    return conv, answer


def _ids(res) -> list[str]:
    assert res.status_code == 200, res.content
    return sorted(c["id"] for c in res.json()["data"])


def test_deleting_a_bot_keeps_its_conversations_messages_and_usage(api, tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    conv, _ = _conversation(bot)
    assert api.delete(f"/v1/bots/{bot.id}").status_code == 204

    conv.refresh_from_db()
    assert (conv.bot_id, conv.bot_slug, conv.message_count) == (None, "helper", 2)
    assert list(Message.objects.filter(conversation=conv).values_list("bot_id", flat=True)) == [
        None,
        None,
    ]
    (listed,) = api.get("/v1/conversations").json()["data"]
    assert set(listed) == CONVERSATION_FIELDS
    assert (listed["id"], listed["bot"], listed["bot_slug"]) == (str(conv.id), None, "helper")
    detail = api.get(f"/v1/conversations/{conv.id}").json()
    assert (detail["bot"], detail["bot_slug"]) == (None, "helper")
    assert [m["content"] for m in detail["messages"]] == ["Hi?", "Hello."]
    assert _ids(api.get("/v1/conversations?bot=helper")) == [str(conv.id)]
    assert _ids(api.get(f"/v1/conversations?bot={bot.id}")) == []  # a deleted bot: by slug

    body = api.get("/v1/usage").json()
    (row,) = body["data"]
    assert (row["bot"], row["bot_id"], row["messages"], row["total_tokens"]) == (
        "helper", None, 2, 15,
    )  # fmt: skip
    assert body["totals"]["total_tokens"] == 15
    assert api.get("/v1/usage?bot=helper").json()["totals"]["total_tokens"] == 15
    assert api.get("/v1/usage?bot=other").json()["data"] == []


def test_a_deleted_bot_and_a_new_one_of_its_slug_stay_apart(api, tenant):
    old = BotFactory(tenant=tenant, slug="helper")
    old_conv, _ = _conversation(old, tokens=15)
    assert api.delete(f"/v1/bots/{old.id}").status_code == 204
    new = BotFactory(tenant=tenant, slug="helper")
    new_conv, _ = _conversation(new, tokens=20)
    other = BotFactory(tenant=tenant, slug="other")
    other_conv, _ = _conversation(other, tokens=30)

    rows = api.get("/v1/usage").json()["data"]
    assert sorted((r["bot"], r["bot_id"] or "", r["total_tokens"]) for r in rows) == [
        ("helper", "", 15), ("helper", str(new.id), 20), ("other", str(other.id), 30),
    ]  # fmt: skip
    assert [r["bot_id"] for r in rows if r["total_tokens"] == 15] == [None]
    by_slug = api.get("/v1/usage?bot=helper").json()
    assert (len(by_slug["data"]), by_slug["totals"]["total_tokens"]) == (2, 35)
    by_id = api.get(f"/v1/usage?bot={new.id}").json()
    assert [(r["bot_id"], r["total_tokens"]) for r in by_id["data"]] == [(str(new.id), 20)]

    assert _ids(api.get("/v1/conversations?bot=helper")) == sorted(
        [str(old_conv.id), str(new_conv.id)]
    )
    assert _ids(api.get(f"/v1/conversations?bot={new.id}")) == [str(new_conv.id)]
    listed = {
        c["id"]: (c["bot"], c["bot_slug"]) for c in api.get("/v1/conversations").json()["data"]
    }
    assert listed == {
        str(old_conv.id): (None, "helper"), str(new_conv.id): (str(new.id), "helper"),
        str(other_conv.id): (str(other.id), "other"),
    }  # fmt: skip


def test_the_slug_kept_is_the_bots_last(api, tenant):
    bot = BotFactory(tenant=tenant, slug="first")
    conv, _ = _conversation(bot)
    res = api.patch(f"/v1/bots/{bot.id}", {"slug": "renamed"}, format="json")
    assert res.status_code == 200, res.content
    assert api.get(f"/v1/conversations/{conv.id}").json()["bot_slug"] == "renamed"
    assert api.delete(f"/v1/bots/{bot.id}").status_code == 204
    conv.refresh_from_db()
    assert conv.bot_slug == "renamed"
    assert api.get(f"/v1/conversations/{conv.id}").json()["bot_slug"] == "renamed"
    assert [r["bot"] for r in api.get("/v1/usage").json()["data"]] == ["renamed"]


def test_feedback_on_an_answer_of_a_deleted_bot(api, client_for, tenant):
    bot = BotFactory(tenant=tenant)
    _, answer = _conversation(bot)
    assert api.delete(f"/v1/bots/{bot.id}").status_code == 204
    chat_only = client_for(tenant, permissions=("chat",))
    res = chat_only.post(
        f"/v1/messages/{answer.id}/feedback", {"rating": "down", "comment": "Old."}, format="json"
    )
    assert res.status_code == 200, res.content
    answer.refresh_from_db()
    assert (answer.feedback_rating, answer.feedback_comment) == ("down", "Old.")


def test_a_deleted_bots_conversation_cannot_be_continued(
    client, api, make_key, tenant, openai_stub
):
    bot = BotFactory(tenant=tenant, slug="helper")
    conv, _ = _conversation(bot)
    assert api.delete(f"/v1/bots/{bot.id}").status_code == 204
    key = make_key(tenant)
    turn = {"message": "And then?", "conversation_id": str(conv.id)}

    status, body = chat(client, key, bot="helper", **turn)  # the slug names no bot now
    assert (status, body["error"]["type"]) == (404, "not_found"), body
    successor = BotFactory(tenant=tenant, slug="helper")
    for ref in ("helper", str(successor.id)):
        status, body = chat(client, key, bot=ref, **turn)
        assert status == 409, body
        assert body["error"]["type"] == "conflict"
        assert "deleted" in body["error"]["message"]
        assert "new conversation" in body["error"]["message"]
    # A key limited to bots is not told the conversation exists.
    limited = make_key(tenant, ("chat",), bots=[successor])
    status, body = chat(client, limited, bot="helper", **turn)
    assert (status, body["error"]["type"]) == (404, "not_found"), body
    assert Message.objects.filter(conversation=conv).count() == 2
    assert openai_stub.chat_requests() == []


def test_keys_limited_to_bots_never_see_a_deleted_bots_conversations(api, client_for, tenant):
    gone, kept = BotFactory(tenant=tenant, slug="gone"), BotFactory(tenant=tenant, slug="kept")
    gone_conv, gone_answer = _conversation(gone)
    kept_conv, _ = _conversation(kept)
    limited = client_for(tenant, ("chat", "read", "write"), bots=[gone, kept])
    only_gone = client_for(tenant, ("chat", "read"), bots=[gone])  # limited to no bot, after
    assert api.delete(f"/v1/bots/{gone.id}").status_code == 204
    # The tenant keeps the conversation (an unlimited key reads it) ...
    assert api.get(f"/v1/conversations/{gone_conv.id}").status_code == 200
    # ... but NULL is no bot of a limited key: not listed, read, rated, counted or deleted.
    assert _ids(limited.get("/v1/conversations")) == [str(kept_conv.id)]
    assert _ids(limited.get("/v1/conversations?bot=gone")) == []
    assert limited.get(f"/v1/conversations/{gone_conv.id}").status_code == 404
    res = limited.post(f"/v1/messages/{gone_answer.id}/feedback", {"rating": "up"}, format="json")
    assert res.status_code == 404
    assert [r["bot"] for r in limited.get("/v1/usage").json()["data"]] == ["kept"]
    assert limited.get("/v1/usage?bot=gone").json()["data"] == []
    assert limited.delete(f"/v1/conversations/{gone_conv.id}").status_code == 404
    assert Conversation.objects.filter(id=gone_conv.id).exists()
    assert _ids(only_gone.get("/v1/conversations")) == []
    assert only_gone.get(f"/v1/conversations/{gone_conv.id}").status_code == 404
    assert only_gone.get("/v1/usage").json()["data"] == []


def test_a_deleted_bots_conversation_can_be_deleted_explicitly(api, tenant):
    bot = BotFactory(tenant=tenant)
    conv, _ = _conversation(bot)
    assert api.delete(f"/v1/bots/{bot.id}").status_code == 204
    assert Conversation.objects.filter(id=conv.id).exists()
    assert api.delete(f"/v1/conversations/{conv.id}").status_code == 204
    assert not Message.objects.filter(conversation_id=conv.id).exists()
    # Its text is gone; its usage stays in the report (UsageArchive, test_usage_archive.py).
    (row,) = api.get("/v1/usage").json()["data"]
    assert (row["bot"], row["bot_id"], row["messages"]) == (bot.slug, None, 2)


def test_cross_tenant_sees_nothing_of_a_deleted_bot(api, other_api, tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    conv, answer = _conversation(bot)
    assert other_api.delete(f"/v1/bots/{bot.id}").status_code == 404
    assert api.delete(f"/v1/bots/{bot.id}").status_code == 204
    assert other_api.get("/v1/conversations").json()["data"] == []
    assert other_api.get("/v1/conversations?bot=helper").json()["data"] == []
    assert other_api.get(f"/v1/conversations/{conv.id}").status_code == 404
    assert other_api.delete(f"/v1/conversations/{conv.id}").status_code == 404
    res = other_api.post(f"/v1/messages/{answer.id}/feedback", {"rating": "up"}, format="json")
    assert res.status_code == 404
    assert other_api.get("/v1/usage").json()["data"] == []
    assert other_api.get("/v1/usage?bot=helper").json()["data"] == []
    assert api.get(f"/v1/conversations/{conv.id}").status_code == 200


def test_a_chat_stores_the_bot_slug_with_a_new_conversation(client, key, openai_stub):
    openai_stub.script.reply = "Use AnonRateThrottle [1]."
    for stream in (False, True):
        status, body = chat(client, key, bot="helper", message="How?", stream=stream)
        assert status == 200, body
        conversation_id = body["conversation_id"] if not stream else body[0][1]["conversation_id"]
        assert Conversation.objects.get(id=conversation_id).bot_slug == "helper"
