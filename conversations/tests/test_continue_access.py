"""Continuing a conversation is reading it: a key limited to certain scopes (or bots) may
continue only the conversations it may read (README: such a key reads only within its limits).
Otherwise its chat would send the other scope's turns to the model as history."""

from __future__ import annotations

import pytest

from conversations.models import Message
from conversations.tests.factories import ScopeFactory
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

SECRET = "The launch code is BLUE-FALCON-42."


@pytest.fixture
def scopes(kb):
    internal = ScopeFactory(tenant=kb.tenant, slug="internal")
    public = ScopeFactory(tenant=kb.tenant, slug="public")
    for scope in (internal, public):
        scope.datasets.set([kb.dataset])
    return internal, public


def _internal_conversation(client, kb, make_key) -> str:
    status, body = chat(client, make_key(kb.tenant), bot="helper", message=SECRET, scope="internal")
    assert status == 200, body
    return body["conversation_id"]


@pytest.mark.parametrize("transport", ["json", "sse"])
def test_scope_limited_key_cannot_continue_another_scopes_conversation(
    client, kb, make_key, scopes, openai_stub, transport
):
    conv = _internal_conversation(client, kb, make_key)
    _, public = scopes
    limited = make_key(kb.tenant, permissions=("chat", "read"), scopes=[public])
    assert client.get(
        f"/v1/conversations/{conv}", HTTP_AUTHORIZATION=f"Bearer {limited}"
    ).status_code == 404  # fmt: skip
    before = len(openai_stub.chat_requests())
    status, body = chat(
        client, limited, bot="helper", message="Repeat what was said before.",
        conversation_id=conv, scope="public", stream=transport == "sse",
    )  # fmt: skip
    assert status == 404, body
    assert body["error"]["type"] == "not_found"
    assert len(openai_stub.chat_requests()) == before  # the model never saw the history
    assert Message.objects.filter(conversation_id=conv).count() == 2


def test_scope_limited_key_continues_its_own_conversation(
    client, kb, make_key, scopes, openai_stub
):
    _, public = scopes
    limited = make_key(kb.tenant, permissions=("chat", "read"), scopes=[public])
    status, first = chat(
        client, limited, bot="helper", message="What is throttling?", scope="public"
    )
    assert status == 200, first
    status, second = chat(
        client, limited, bot="helper", message="And per user?",
        conversation_id=first["conversation_id"], scope="public",
    )  # fmt: skip
    assert status == 200, second
    assert second["conversation_id"] == first["conversation_id"]
    history = openai_stub.chat_requests()[-1].messages
    assert "What is throttling?" in [m["content"] for m in history]


def test_unrestricted_key_continues_any_scope(client, kb, make_key, scopes, openai_stub):
    conv = _internal_conversation(client, kb, make_key)
    status, body = chat(
        client, make_key(kb.tenant), bot="helper", message="And then?", conversation_id=conv
    )
    assert status == 200, body
    assert SECRET in [m["content"] for m in openai_stub.chat_requests()[-1].messages]


def test_other_tenant_cannot_continue(client, kb, make_key, scopes, other_tenant, openai_stub):
    from conversations.tests.conftest import build_kb

    conv = _internal_conversation(client, kb, make_key)
    build_kb(other_tenant, slug="helper")
    status, body = chat(
        client, make_key(other_tenant), bot="helper", message="x", conversation_id=conv
    )
    assert status == 404
    assert body["error"]["type"] == "not_found"


def test_another_bots_conversation_is_a_400_naming_its_bot(client, kb, make_key, openai_stub):
    from conversations.tests.conftest import build_kb

    build_kb(kb.tenant, slug="other-bot")
    key = make_key(kb.tenant)
    _, first = chat(client, key, bot="helper", message="What is throttling?")
    before = len(openai_stub.chat_requests())
    status, body = chat(
        client, key, bot="other-bot", message="And then?", conversation_id=first["conversation_id"]
    )
    assert status == 400, body
    assert "belongs to the bot `helper`" in body["error"]["message"]
    assert body["error"]["details"] == {"conversation_bot": "helper"}
    assert len(openai_stub.chat_requests()) == before
    assert Message.objects.filter(conversation_id=first["conversation_id"]).count() == 2


def test_bot_limited_key_gets_404_for_a_conversation_of_a_bot_it_cannot_use(
    client, kb, make_key, openai_stub
):
    from conversations.tests.conftest import build_kb

    other = build_kb(kb.tenant, slug="other-bot").bot
    _, first = chat(client, make_key(kb.tenant), bot="helper", message="What is throttling?")
    limited = make_key(kb.tenant, bots=[other])
    status, body = chat(
        client, limited, bot="other-bot", message="x", conversation_id=first["conversation_id"]
    )
    assert status == 404, body
    assert "helper" not in str(body)
