"""Erasing one end user's conversations (GDPR right to erasure): `DELETE /v1/conversations?user=`
and `purge_conversations --tenant T --user U`.

Repro (data-request review): an integrator answering an erasure request listed the user's
conversations page by page and deleted them one by one; operators had no command for it
(`purge_conversations` only knew --older-than). Now one call each, limited to that tenant (the
same end-user id in another tenant is another person), to what a limited key may read, refusing
an empty user (which would match every conversation sent without one), and keeping the usage
figures as every deletion does.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chatbot_project.testing.schema_check import published_schema, response_errors
from conversations.management.commands import purge_conversations
from conversations.models import Conversation, Message
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _conversation(bot, user: str, *, days: int = 0) -> Conversation:
    conv = ConversationFactory(bot=bot, user=user, message_count=2)
    MessageFactory(conversation=conv, role="user", content=f"{user}'s question")
    MessageFactory(
        conversation=conv, role="assistant", content="An answer.", prompt_tokens=10,
        completion_tokens=5, total_tokens=15, latency_ms=100, model="stub-model",
        finish_reason="stop",
    )  # fmt: skip
    if days:
        Conversation.objects.filter(pk=conv.pk).update(
            updated_at=timezone.now() - timedelta(days=days)
        )
    return conv


@pytest.fixture
def people(tenant, other_tenant):
    """alice: two conversations in acme (two bots), one in globex (another person); bob and a
    conversation without a user in acme."""
    helper, sales = BotFactory(tenant=tenant, slug="helper"), BotFactory(tenant=tenant)
    return {
        "alice": [_conversation(helper, "alice"), _conversation(sales, "alice", days=100)],
        "bob": [_conversation(helper, "bob")],
        "nobody": [_conversation(helper, "")],
        "globex-alice": [_conversation(BotFactory(tenant=other_tenant), "alice")],
        "helper": helper,
    }


def _left(people, *names: str) -> bool:
    ids = [c.pk for name in names for c in people[name]]
    return Conversation.objects.filter(pk__in=ids).count() == len(ids)


def _gone(people, name: str) -> bool:
    ids = [c.pk for c in people[name]]
    return not Conversation.objects.filter(pk__in=ids) and not Message.objects.filter(
        conversation_id__in=ids
    )


# --------------------------------------------------------------------------- the route
def test_the_route_erases_that_users_conversations_of_the_callers_tenant_only(api, people):
    usage_before = api.get("/v1/usage").json()["totals"]
    res = api.delete("/v1/conversations?user=alice")
    assert res.status_code == 200, res.content
    assert res.json() == {"deleted": {"conversations": 2, "messages": 4}}
    assert _gone(people, "alice")
    assert _left(people, "bob", "nobody", "globex-alice")  # another user, another tenant's alice
    assert api.get("/v1/usage").json()["totals"] == usage_before  # figures kept (UsageArchive)
    again = api.delete("/v1/conversations?user=alice")
    assert again.json() == {"deleted": {"conversations": 0, "messages": 0}}


def test_another_tenants_key_erases_only_its_own_end_user(other_api, people):
    res = other_api.delete("/v1/conversations?user=alice")
    assert res.json() == {"deleted": {"conversations": 1, "messages": 2}}
    assert _gone(people, "globex-alice")
    assert _left(people, "alice", "bob", "nobody")


def test_a_key_limited_to_bots_erases_only_those_bots_conversations(client_for, tenant, people):
    limited = client_for(tenant, permissions=("read", "write"), bots=[people["helper"]])
    res = limited.delete("/v1/conversations?user=alice")
    assert res.json() == {"deleted": {"conversations": 1, "messages": 2}}
    helper_one, sales_one = people["alice"]
    assert not Conversation.objects.filter(pk=helper_one.pk).exists()
    assert Conversation.objects.filter(pk=sales_one.pk).exists()  # another bot's: not its own


@pytest.mark.parametrize("query", ["", "?user=", "?bot=helper", "?user=" + "x" * 201])
def test_a_missing_or_empty_user_is_refused_and_deletes_nothing(api, people, query):
    res = api.delete(f"/v1/conversations{query}")
    assert res.status_code == 400, res.content
    assert res.json()["error"]["type"] == "invalid_request"
    assert "`user` is required" in res.json()["error"]["message"]
    assert _left(people, "alice", "bob", "nobody", "globex-alice")


def test_erasing_needs_write(client_for, tenant, people):
    reader = client_for(tenant, permissions=("read", "chat"))
    res = reader.delete("/v1/conversations?user=alice")
    assert res.status_code == 403
    assert res.json()["error"]["type"] == "permission_denied"
    assert _left(people, "alice")


def test_the_schema_documents_the_route_and_its_answer(api, people):
    schema = published_schema()
    operation = schema["paths"]["/v1/conversations"]["delete"]
    (user,) = [p for p in operation["parameters"] if p["name"] == "user"]
    assert user["required"] is True
    assert "400" in operation["responses"]
    body = api.delete("/v1/conversations?user=alice").json()
    assert not response_errors(schema, "/v1/conversations", "delete", "200", body)
    assert response_errors(schema, "/v1/conversations", "delete", "200", {"deleted": 2})


# --------------------------------------------------------------------------- the command
def _purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_conversations", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_erases_that_users_conversations_in_batches(api, people, monkeypatch):
    monkeypatch.setattr(purge_conversations, "BATCH", 1)
    usage_before = api.get("/v1/usage").json()["totals"]
    with CaptureQueriesContext(connection) as queries:
        out = _purge("--tenant", "acme", "--user", "alice")
    assert (
        out.strip()
        == "Deleted 2 conversation(s) (4 messages) of end user 'alice' in tenant 'acme'."
    )
    table = Conversation._meta.db_table
    assert len([q for q in queries if q["sql"].startswith(f'DELETE FROM "{table}"')]) == 2
    assert _gone(people, "alice")
    assert _left(people, "bob", "nobody", "globex-alice")
    assert api.get("/v1/usage").json()["totals"] == usage_before


def test_the_command_combines_user_and_age(people):
    out = _purge("--tenant", "acme", "--user", "alice", "--older-than", "90d")
    assert out.startswith("Deleted 1 conversation(s) (2 messages) of end user 'alice' in tenant")
    assert "last active before" in out
    recent, old = people["alice"]
    assert Conversation.objects.filter(pk=recent.pk).exists()
    assert not Conversation.objects.filter(pk=old.pk).exists()


def test_a_dry_run_of_an_erasure_changes_nothing(people):
    out = _purge("--tenant", "acme", "--user", "alice", "--dry-run")
    assert out.strip() == "2 conversation(s) of end user 'alice' would be deleted."
    assert _left(people, "alice", "bob", "nobody", "globex-alice")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--tenant", "acme", "--user", ""], "--user is empty"),
        (["--user", "alice"], "--user needs --tenant"),
        (["--tenant", "acme"], "Say what to delete"),
        (["--tenant", "nope", "--user", "alice"], "No tenant 'nope'"),
    ],
)
def test_the_command_refuses_an_erasure_it_cannot_scope(people, args, words):
    with pytest.raises(CommandError, match=words):
        _purge(*args)
    assert _left(people, "alice", "bob", "nobody", "globex-alice")


# --------------------------------------------------------------------------- while answering
@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_erasing_while_a_conversation_is_answered_deletes_it_as_the_single_delete_does(live):
    """The conversation being answered goes too (the single DELETE's behaviour, kept): its
    chat ends with an `error` event (`conflict`), and its answer is not stored afterwards."""
    import threading
    import time

    import httpx

    from chatbot_project.testing.openai_stub import Script
    from conversations.tests.live_fixtures import QUESTION, read_events

    base, key, stub = live
    gate = threading.Event()
    stub.script = Script(reply="An answer for someone erased", hold_last=gate)
    auth = {"Authorization": f"Bearer {key}"}
    events, erased = [], None
    with httpx.Client(timeout=10) as client, client.stream(
        "POST", f"{base}/v1/chat",
        json={"bot": "helper", "message": QUESTION, "stream": True, "user": "alice"},
        headers=auth,
    ) as res:  # fmt: skip
        for event, data in read_events(res.iter_lines()):
            if event == "ping":
                continue
            events.append((event, data))
            if event == "delta" and not gate.is_set():  # the upstream holds its last token
                deadline = time.monotonic() + 5  # (the conversation is written shortly after start)
                while erased is None or not erased["conversations"]:
                    erased = httpx.delete(f"{base}/v1/conversations?user=alice", headers=auth)
                    erased = erased.json()["deleted"]
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                gate.set()
    assert erased == {"conversations": 1, "messages": 1}  # the question; the answer is pending
    assert events[-1][0] == "error", events[-3:]
    assert events[-1][1]["error"]["type"] == "conflict"
    assert not Conversation.objects.filter(user="alice").exists()
    assert not Message.objects.filter(id=events[0][1]["message_id"]).exists()
