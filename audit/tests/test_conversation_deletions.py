"""Conversation deletions are audit events (chats are not): ``conversation.delete`` (one, the
API or the admin), ``conversation.erase`` (one end user's, the API or ``purge_conversations
--user``), ``conversation.purge`` (retention, per tenant). The end user is kept as a keyed hash
only, and ``GET /v1/audit?end_user=`` finds their events in the caller's tenant alone."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.end_users import end_user_ref
from audit.models import AuditEvent
from conversations.models import Conversation
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

ADMIN = ("read", "write", "admin")


def _conversation(bot, user="alice@example.com", *, days=0):
    conv = ConversationFactory(bot=bot, user=user, title=f"{user} asks about refunds")
    MessageFactory(conversation=conv, content=f"I am {user}, my card is 4111")
    MessageFactory(conversation=conv, role="assistant", content="An answer.")
    if days:
        Conversation.objects.filter(pk=conv.pk).update(
            updated_at=timezone.now() - timedelta(days=days)
        )
    return conv


def _events(tenant, action):
    return list(AuditEvent.objects.for_tenant(tenant).filter(action=action))


def _dumped() -> str:
    return json.dumps([[str(v) for v in e.__dict__.values()] for e in AuditEvent.objects.all()])


def test_deleting_one_conversation_is_recorded_without_the_end_users_data(tenant, client_for):
    conv = _conversation(BotFactory(tenant=tenant, slug="helper"))
    api = client_for(tenant, ADMIN)
    assert api.delete(f"/v1/conversations/{conv.pk}").status_code == 204
    [event] = _events(tenant, "conversation.delete")
    assert event.object_id == str(conv.pk)
    assert event.changes == {
        "end_user": end_user_ref(tenant_id=tenant.pk, user="alice@example.com"),
        "bot": "helper",
        "messages": 2,
    }
    assert (event.actor_type, event.via) == ("api_key", "api")
    dumped = _dumped()
    assert "alice" not in dumped
    assert "4111" not in dumped
    assert "refunds" not in dumped


def test_a_conversation_without_an_end_user_records_none(tenant, client_for):
    conv = _conversation(BotFactory(tenant=tenant), user="")
    assert client_for(tenant, ADMIN).delete(f"/v1/conversations/{conv.pk}").status_code == 204
    assert _events(tenant, "conversation.delete")[0].changes["end_user"] is None


def test_erasure_through_the_api_is_one_event_with_counts(tenant, client_for):
    bot = BotFactory(tenant=tenant)
    for _ in range(3):
        _conversation(bot)
    _conversation(bot, user="bob")
    api = client_for(tenant, ADMIN)
    res = api.delete("/v1/conversations", QUERY_STRING="user=alice%40example.com")
    assert res.json() == {"deleted": {"conversations": 3, "messages": 6}}
    again = api.delete("/v1/conversations", QUERY_STRING="user=alice%40example.com")
    assert again.json() == {"deleted": {"conversations": 0, "messages": 0}}
    second, first = _events(tenant, "conversation.erase")  # newest first
    ref = end_user_ref(tenant_id=tenant.pk, user="alice@example.com")
    assert first.changes == {
        "end_user": ref, "conversations": 3, "messages": 6, "complete": True,
    }  # fmt: skip
    # A repeat finding nothing is recorded too: the request was carried out.
    assert (second.changes["conversations"], second.changes["end_user"]) == (0, ref)
    assert first.object_label == "end user's conversations"
    assert _events(tenant, "conversation.delete") == []  # one event, not one per conversation
    assert "alice" not in _dumped()


def test_an_erasure_by_a_key_limited_to_some_bots_says_so(tenant, make_key):
    from rest_framework.test import APIClient

    bot, other_bot = BotFactory(tenant=tenant), BotFactory(tenant=tenant)
    _conversation(bot), _conversation(other_bot)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant, ('write',), bots=[bot])}")
    res = api.delete("/v1/conversations", QUERY_STRING="user=alice%40example.com")
    assert res.json()["deleted"]["conversations"] == 1
    [event] = _events(tenant, "conversation.erase")
    assert event.changes["credential_restricted"] is True


def test_the_audit_log_finds_an_end_users_events_in_its_own_tenant_only(
    tenant, other_tenant, client_for
):
    mine = _conversation(BotFactory(tenant=tenant))
    _conversation(BotFactory(tenant=tenant), user="bob")
    theirs = _conversation(BotFactory(tenant=other_tenant))  # the same id: another person
    me, them = client_for(tenant, ADMIN), client_for(other_tenant, ADMIN)
    assert me.delete(f"/v1/conversations/{mine.pk}").status_code == 204
    me.delete("/v1/conversations", QUERY_STRING="user=bob")
    assert them.delete(f"/v1/conversations/{theirs.pk}").status_code == 204
    them.delete("/v1/conversations", QUERY_STRING="user=alice%40example.com")

    res = me.get("/v1/audit", {"end_user": "alice@example.com"})
    assert res.status_code == 200, res.content
    assert [(e["action"], e["object"]["id"]) for e in res.json()["data"]] == [
        ("conversation.delete", str(mine.pk))
    ]
    ids = {e["id"] for e in res.json()["data"]}
    other_ids = {str(pk) for pk in AuditEvent.objects.for_tenant(other_tenant).values_list("pk")}
    assert not ids & other_ids
    theirs_listed = them.get("/v1/audit", {"end_user": "alice@example.com"}).json()["data"]
    assert [e["action"] for e in theirs_listed] == ["conversation.erase", "conversation.delete"]
    assert theirs_listed[0]["changes"]["end_user"] != res.json()["data"][0]["changes"]["end_user"]
    assert me.get("/v1/audit", {"end_user": "nobody"}).json()["data"] == []


def test_the_end_user_filter_survives_a_secret_key_rotation(tenant, client_for, settings):
    conv = _conversation(BotFactory(tenant=tenant))
    api = client_for(tenant, ADMIN)
    assert api.delete(f"/v1/conversations/{conv.pk}").status_code == 204
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    found = api.get("/v1/audit", {"end_user": "alice@example.com"}).json()["data"]
    assert [e["action"] for e in found] == ["conversation.delete"]


@pytest.mark.parametrize("value", ["", "x" * 201])
def test_a_bad_end_user_filter_is_a_400(tenant, client_for, value):
    res = client_for(tenant, ADMIN).get("/v1/audit", {"end_user": value})
    assert res.status_code == 400
    assert "end_user" in res.json()["error"]["details"]["fields"]


def test_purge_conversations_records_erasures_and_retention(tenant, other_tenant):
    bot, other_bot = BotFactory(tenant=tenant), BotFactory(tenant=other_tenant)
    _conversation(bot), _conversation(bot, days=100), _conversation(bot, user="bob", days=100)
    _conversation(other_bot, user="carol", days=100), _conversation(other_bot, user="dan")
    call_command(
        "purge_conversations", "--tenant", "acme", "--user", "alice@example.com",
        stdout=io.StringIO(),
    )  # fmt: skip
    [erased] = _events(tenant, "conversation.erase")
    assert (erased.actor_type, erased.via) == ("cli", "cli")
    assert erased.changes["conversations"] == 2
    assert erased.changes["end_user"] == end_user_ref(tenant_id=tenant.pk, user="alice@example.com")

    call_command("purge_conversations", "--older-than", "90d", stdout=io.StringIO())
    [mine] = _events(tenant, "conversation.purge")
    [theirs] = _events(other_tenant, "conversation.purge")
    assert (mine.changes["conversations"], mine.changes["messages"]) == (1, 2)
    assert (theirs.changes["conversations"], theirs.changes["older_than"]) == (1, "90d")
    assert mine.changes["last_active_before"] < timezone.now().isoformat()
    call_command("purge_conversations", "--older-than", "90d", stdout=io.StringIO())
    assert len(_events(tenant, "conversation.purge")) == 1  # nothing deleted: no event
    assert "bob" not in _dumped()
    assert "carol" not in _dumped()


def test_an_erasure_failing_part_way_records_what_went(tenant, monkeypatch):
    from conversations import services
    from conversations.erasure import end_user_erase

    for _ in range(3):
        _conversation(BotFactory(tenant=tenant))
    real, calls = services.conversations_delete, []

    def fails_second(qs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("the database went away")
        return real(qs)

    monkeypatch.setattr(services, "conversations_delete", fails_second)
    qs = Conversation.objects.for_tenant(tenant).filter(user="alice@example.com")
    with pytest.raises(ConnectionError):
        end_user_erase(tenant=tenant, user="alice@example.com", conversations=qs, batch=1)
    [event] = _events(tenant, "conversation.erase")
    assert (event.changes["conversations"], event.changes["complete"]) == (1, False)


def test_admin_deletes_of_conversations_are_recorded(client, tenant):
    from tenants.tests.admin_support import admin_url, staff_client

    first, second = (
        _conversation(BotFactory(tenant=tenant)),
        _conversation(BotFactory(tenant=tenant)),
    )
    third = _conversation(BotFactory(tenant=tenant), user="bob")
    admin = staff_client(client, {tenant: "owner"})
    assert admin.post(admin_url(first, "delete"), {"post": "yes"}).status_code == 302
    res = admin.post(
        "/admin/conversations/conversation/",
        {"action": "delete_selected", "_selected_action": [second.pk, third.pk], "post": "yes"},
    )
    assert res.status_code == 302, res.content[:2000]
    events = _events(tenant, "conversation.delete")
    assert {e.object_id for e in events} == {str(first.pk), str(second.pk), str(third.pk)}
    assert {(e.actor_label, e.via) for e in events} == {("acme-staff", "admin")}
    assert not Conversation.objects.filter(tenant=tenant).exists()
