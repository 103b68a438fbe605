"""What staff do to single messages in the Django admin is on record
(``conversations.message_edits``): ``message.delete`` (one per conversation that lost
messages), ``message.redact`` (the text edited) and ``message.update`` (the metadata alone),
once each, in the change's transaction, never with the text; the deleted messages' usage stays
in GET /v1/usage; another tenant's staff neither sees nor changes them."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from audit.end_users import end_user_ref
from audit.models import AuditEvent
from conversations.models import Conversation, Message, UsageArchive
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory
from tenants.tests.admin_support import admin_url, as_posted, staff_client

pytestmark = pytest.mark.django_db

QUESTION = "I am Alice Example, my card is 4111 1111 1111 1111"
ANSWER = "Alice, your refund for order 7781 is on its way."
FIGURES = {
    "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "latency_ms": 120,
    "model": "gpt-4o-mini", "finish_reason": "stop", "feedback_rating": "up",
    "feedback_comment": "thanks Alice",
}  # fmt: skip


def _turns(bot):
    conv = ConversationFactory(bot=bot, user="alice@example.com", title=QUESTION)
    question = MessageFactory(conversation=conv, content=QUESTION, metadata={"phone": "555-0100"})
    answer = MessageFactory(conversation=conv, role="assistant", content=ANSWER, **FIGURES)
    Conversation.objects.filter(pk=conv.pk).update(message_count=2)
    return conv, question, answer


def _events(tenant, prefix="message."):
    return list(AuditEvent.objects.for_tenant(tenant).filter(action__startswith=prefix))


def _no_text_kept() -> None:
    """Neither the audit log nor the admin's own history holds the messages' words."""
    kept = json.dumps(
        [[str(v) for v in e.__dict__.values()] for e in AuditEvent.objects.all()]
        + [[e.object_repr, e.change_message] for e in LogEntry.objects.all()]
    )
    for words in ("Alice", "4111", "7781", "555-0100", "[redacted]"):
        assert words not in kept, words


def _totals(api) -> dict:
    res = api.get("/v1/usage")
    assert res.status_code == 200, res.content
    return res.json()["totals"]


def test_an_admin_delete_is_recorded_once_without_text_and_keeps_the_usage(client, tenant, api):
    bot = BotFactory(tenant=tenant, slug="helper")
    conv, _, answer = _turns(bot)
    before = _totals(api)
    staff = staff_client(client, {tenant: "owner"})
    assert staff.post(admin_url(answer, "delete"), {"post": "yes"}).status_code == 302

    assert not Message.objects.filter(pk=answer.pk).exists()
    assert _totals(api) == before  # its tokens and rating still counted
    assert UsageArchive.objects.filter(tenant=tenant).exists()
    [event] = _events(tenant)
    assert (event.action, event.object_type, event.object_id) == (
        "message.delete", "message", str(conv.pk),
    )  # fmt: skip
    assert event.object_label == "1 message"
    assert event.changes == {
        "conversation": str(conv.pk), "bot": "helper", "messages": 1,
        "roles": {"assistant": 1}, "message_ids": [str(answer.pk)],
        "message_count": {"old": 2, "new": 1},
        "end_user": end_user_ref(tenant_id=tenant.pk, user="alice@example.com"),
    }  # fmt: skip
    # The end user's id finds it (GET /v1/audit?end_user=), as it finds conversation events.
    found = api.get("/v1/audit", {"end_user": "alice@example.com"}).json()["data"]
    assert [e["action"] for e in found] == ["message.delete"]
    assert api.get("/v1/audit", {"end_user": "bob@example.com"}).json()["data"] == []
    assert (event.actor_type, event.actor_label, event.via) == ("user", "acme-staff", "admin")
    assert Conversation.objects.get(pk=conv.pk).message_count == 1
    _no_text_kept()


def test_delete_selected_is_one_event_per_conversation(client, tenant, other_tenant, api):
    bot = BotFactory(tenant=tenant)
    (one, q1, a1), (two, _, a2) = _turns(bot), _turns(bot)
    _, their_question, _ = _turns(BotFactory(tenant=other_tenant))
    before = _totals(api)
    staff = staff_client(client, {tenant: "owner"})
    res = staff.post(
        "/admin/conversations/message/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [
            str(m.pk) for m in (q1, a1, a2, their_question)
        ]},
    )  # fmt: skip
    assert res.status_code == 302
    assert _totals(api) == before
    by_conversation = {e.object_id: e for e in _events(tenant)}
    assert set(by_conversation) == {str(one.pk), str(two.pk)}
    first = by_conversation[str(one.pk)]
    assert first.action == "message.delete"
    assert first.changes["messages"] == 2
    assert first.changes["roles"] == {"user": 1, "assistant": 1}
    assert first.changes["message_ids"] == [str(q1.pk), str(a1.pk)]  # in the order they came
    assert first.changes["message_count"] == {"old": 2, "new": 0}
    assert by_conversation[str(two.pk)].changes["message_ids"] == [str(a2.pk)]
    # Another tenant's message was not deleted, and its log has nothing.
    assert Message.objects.filter(pk=their_question.pk).exists()
    assert _events(other_tenant) == []
    _no_text_kept()


def test_a_redaction_is_recorded_once_without_the_old_or_new_text(client, tenant, api):
    conv, question, _ = _turns(BotFactory(tenant=tenant))
    before = _totals(api)
    staff = staff_client(client, {tenant: "owner"})
    form = staff.get(admin_url(question)).context["adminform"].form
    res = staff.post(admin_url(question), as_posted(form, content="[redacted]"))
    assert res.status_code == 302, res.context["adminform"].form.errors
    assert Message.objects.get(pk=question.pk).content == "[redacted]"
    [event] = _events(tenant)
    assert (event.action, event.object_id, event.object_label) == (
        "message.redact", str(question.pk), "user message",
    )  # fmt: skip
    assert event.changes == {
        "conversation": str(conv.pk), "role": "user", "content": {"changed": True},
        "end_user": end_user_ref(tenant_id=tenant.pk, user="alice@example.com"),
    }  # fmt: skip
    assert (event.actor_label, event.via) == ("acme-staff", "admin")
    assert _totals(api) == before
    _no_text_kept()


def test_a_metadata_edit_is_an_update_and_an_unchanged_save_records_nothing(client, tenant):
    _, question, answer = _turns(BotFactory(tenant=tenant))
    Message.objects.filter(pk=answer.pk).update(content="Line one\nLine two\n")
    staff = staff_client(client, {tenant: "owner"})
    form = staff.get(admin_url(answer)).context["adminform"].form
    # As a browser posts it back: CRLF line ends, stripped. Not an edit, and not written.
    content = "Line one\r\nLine two"
    assert staff.post(admin_url(answer), as_posted(form, content=content)).status_code == 302
    assert _events(tenant) == []
    assert Message.objects.get(pk=answer.pk).content == "Line one\nLine two\n"

    form = staff.get(admin_url(question)).context["adminform"].form
    res = staff.post(admin_url(question), as_posted(form, metadata="{}"))
    assert res.status_code == 302, res.context["adminform"].form.errors
    [event] = _events(tenant)
    assert event.action == "message.update"
    assert event.changes["metadata"] == {"changed": True}
    assert "content" not in event.changes
    stored = Message.objects.get(pk=question.pk)
    assert (stored.metadata, stored.content) == ({}, QUESTION)
    _no_text_kept()


def test_another_tenants_staff_can_neither_see_nor_change_the_messages(
    client, tenant, other_tenant, client_for
):
    _, question, answer = _turns(BotFactory(tenant=tenant))
    staff_client(client, {tenant: "owner"}).post(admin_url(answer, "delete"), {"post": "yes"})
    theirs = staff_client(Client(), {other_tenant: "owner"}, username="globex-staff")

    for view in ("change", "delete"):
        res = theirs.get(admin_url(question, view))
        assert (res.status_code, res["Location"]) == (302, "/admin/"), view
    res = theirs.post(admin_url(question), {"content": "[redacted]", "metadata": "{}"})
    assert (res.status_code, res["Location"]) == (302, "/admin/")
    res = theirs.post(admin_url(question, "delete"), {"post": "yes"})
    assert (res.status_code, res["Location"]) == (302, "/admin/")
    theirs.post(
        "/admin/conversations/message/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [str(question.pk)]},
    )
    listed = theirs.get(admin_url(question, "changelist")).context["cl"].result_list
    assert question.pk not in {m.pk for m in listed}
    assert Message.objects.get(pk=question.pk).content == QUESTION
    assert [e.action for e in _events(tenant)] == ["message.delete"]  # the owner's only
    assert _events(other_tenant) == []

    # The event is in its own tenant's audit log only.
    mine = client_for(tenant, ("read", "write", "admin")).get("/v1/audit", {"action": "message."})
    assert [e["action"] for e in mine.json()["data"]] == ["message.delete"]
    other = client_for(other_tenant, ("read", "write", "admin"))
    assert other.get("/v1/audit", {"action": "message."}).json()["data"] == []
    event_id = mine.json()["data"][0]["id"]
    assert event_id not in json.dumps(other.get("/v1/audit").json())


def test_a_delete_whose_event_fails_is_rolled_back_with_its_usage(tenant, monkeypatch):
    from conversations import message_edits

    *_, answer = _turns(BotFactory(tenant=tenant))

    def fails(**kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(message_edits, "audit_record", fails)
    with pytest.raises(ConnectionError):
        message_edits.messages_delete_recorded(Message.objects.filter(pk=answer.pk))
    assert Message.objects.filter(pk=answer.pk).exists()
    assert not UsageArchive.objects.exists()
    assert Conversation.objects.get(pk=answer.conversation_id).message_count == 2


def test_a_conversation_deleted_in_the_admin_leaves_no_title_in_its_history(client, tenant):
    """A conversation's title is its first question: the admin's history names it by id."""
    conv, _, _ = _turns(BotFactory(tenant=tenant))
    staff = staff_client(client, {tenant: "owner"})
    assert staff.post(admin_url(conv, "delete"), {"post": "yes"}).status_code == 302
    assert not Conversation.objects.filter(pk=conv.pk).exists()
    [entry] = LogEntry.objects.all()
    assert entry.object_repr == f"conversation {conv.pk}"
    _no_text_kept()
