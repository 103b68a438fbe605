"""The admin's pages do not grow with the number of rows.

Changelists cost the same number of queries with 1 row as with 50: a query per row (a relation
read for each line) grows with a tenant's size; the conversation list read each row's bot on
its own (50 conversations: 57 queries instead of 7). A change page does not offer every row of
the instance in a drop-down.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys.tests.factories import APIKeyFactory
from bots.tests.factories import BotFactory, ScopeFactory
from conversations.tests.factories import ConversationFactory, MessageFactory
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory
from tenants.tests.admin_support import admin_url
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MORE = 49  # rows added to the one of each kind that ``acme`` has


def _add_rows(kind: str, acme: dict) -> None:
    tenant = acme["bot"].tenant
    dataset, scope, bot = acme["dataset"], acme["scope"], acme["bot"]
    for _ in range(MORE):
        if kind == "bot":
            BotFactory(tenant=tenant, datasets=[dataset], default_scope=scope)
        elif kind == "scope":
            ScopeFactory(tenant=tenant, datasets=[dataset])
        elif kind == "dataset":
            DatasetFactory(tenant=tenant)
        elif kind == "document":
            DocumentFactory(dataset=dataset)
        elif kind == "chunk":
            ChunkFactory(document=acme["document"])
        elif kind == "conversation":
            ConversationFactory(bot=BotFactory(tenant=tenant), scope=scope)
        elif kind == "message":
            MessageFactory(conversation=ConversationFactory(bot=bot))
        elif kind == "apikey":
            key = APIKeyFactory(tenant=tenant, limited_to_bots=True, limited_to_scopes=True)
            key.bots.set([bot])
            key.scopes.set([scope])
        elif kind == "membership":
            MembershipFactory(tenant=tenant, user=UserFactory(), role="member")


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        res = client.get(url)
    assert res.status_code == 200, url
    return len(ctx.captured_queries)


KIND_LIST = (
    "bot", "scope", "dataset", "document", "chunk", "conversation", "message", "apikey",
    "membership",
)  # fmt: skip


@pytest.mark.parametrize("who", ["superuser", "staff"])
@pytest.mark.parametrize("kind", KIND_LIST)
def test_a_changelist_costs_the_same_queries_for_50_rows_as_for_1(request, who, kind, acme):
    client = request.getfixturevalue(who)
    url = admin_url(acme[kind], "changelist")
    rows = len(client.get(url).context["cl"].result_list)  # (and first-request caches)
    one = _queries(client, url)
    _add_rows(kind, acme)
    res = client.get(url)
    assert len(res.context["cl"].result_list) == rows + MORE
    assert _queries(client, url) == one


def test_a_conversations_page_does_not_list_every_bot_of_the_instance(superuser, acme, globex):
    from tenants.tests.factories import TenantFactory

    elsewhere = TenantFactory(slug="elsewhere")
    for i in range(MORE):
        key = APIKeyFactory(tenant=elsewhere, name=f"far-key-{i}")
        BotFactory(tenant=elsewhere, slug=f"far-bot-{i}")
        ScopeFactory(tenant=elsewhere, slug=f"far-scope-{i}")
    res = superuser.get(admin_url(acme["conversation"]))
    assert res.status_code == 200
    assert b"far-bot-" not in res.content
    assert b"far-scope-" not in res.content
    assert key.prefix.encode() not in res.content
    assert acme["bot"].slug.encode() in res.content  # its own bot, named beside the id


@pytest.mark.parametrize("who", ["superuser", "staff"])
def test_the_message_list_reads_a_page_in_index_order_and_counts_once(request, who, acme):
    # (600,000 messages: the page sorted every message by created_at, 1.2 s, and counted them
    # twice; the index msg_tenant_conv_idx gives the page in ~3 ms)
    client = request.getfixturevalue(who)
    with CaptureQueriesContext(connection) as ctx:
        res = client.get(admin_url(acme["message"], "changelist"))
    assert res.status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries if '"conversations_message"' in q["sql"]]
    assert len([sql for sql in sqls if "COUNT(*)" in sql]) == 1
    page = next(sql for sql in sqls if "COUNT(*)" not in sql)
    assert page.split("ORDER BY ", 1)[1].startswith(
        '"conversations_message"."tenant_id" ASC, "conversations_message"."conversation_id" ASC, '
        '"conversations_message"."created_at" ASC'
    )


@pytest.mark.parametrize("who", ["superuser", "staff"])
def test_the_chunk_list_counts_once(request, who, acme):
    # (a tenant's 100,000 chunks: ~180 ms a COUNT(*), which the page ran twice)
    client = request.getfixturevalue(who)
    with CaptureQueriesContext(connection) as ctx:
        res = client.get(admin_url(acme["chunk"], "changelist"))
    assert res.status_code == 200
    counts = [
        q for q in ctx.captured_queries if 'COUNT(*) AS "__count" FROM "datasets_chunk"' in q["sql"]
    ]
    assert len(counts) == 1
