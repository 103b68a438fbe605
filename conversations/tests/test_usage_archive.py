"""Deleting conversations erases their text, not the tenant's usage history.

Repro (operations review): `purge_conversations --older-than 90d` (the retention the README
recommends) and DELETE /v1/conversations/{id} deleted the messages that GET /v1/usage sums, so
last quarter's tokens and messages vanished from the report (billing, quotas by hand) after a
purge. Now the deleted messages' figures are summed into UsageArchive in the deleting
transaction, and the report adds them to the live messages' figures.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from conversations.models import Conversation, Message, UsageArchive
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _turn(conv, when: datetime, *, latency: int, tokens: int = 10, refused: bool = False) -> None:
    user = MessageFactory(conversation=conv, role="user")
    answer = MessageFactory(
        conversation=conv, role="assistant", prompt_tokens=tokens, completion_tokens=2 * tokens,
        total_tokens=3 * tokens, latency_ms=latency, refused=refused,
    )  # fmt: skip
    Message.objects.filter(pk__in=[user.pk, answer.pk]).update(created_at=when)


def _old(conv) -> None:
    Conversation.objects.filter(pk=conv.pk).update(updated_at=timezone.now() - timedelta(days=120))


def _usage(api, query: str = "") -> dict:
    res = api.get(f"/v1/usage{query}")
    assert res.status_code == 200, res.content
    return res.json()


DAY1 = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
DAY2 = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)


def test_a_purge_leaves_the_usage_report_as_it_was(api, tenant, other_tenant):
    support, sales = (
        BotFactory(tenant=tenant, slug="support"),
        BotFactory(tenant=tenant, slug="sales"),
    )
    for bot, latency in ((support, 100), (support, 300), (sales, 50)):
        conv = ConversationFactory(bot=bot)
        _turn(conv, DAY1, latency=latency)
        _turn(conv, DAY2, latency=latency + 1, refused=True)
        _old(conv)
    ConversationFactory(bot=BotFactory(tenant=other_tenant))  # another tenant's, kept
    before = _usage(api)
    assert before["totals"]["messages"] == 12

    call_command("purge_conversations", "--older-than", "90d", stdout=io.StringIO())

    assert not Message.objects.filter(tenant=tenant).exists()
    assert _usage(api) == before
    assert Conversation.objects.filter(tenant=other_tenant).count() == 1
    support_day1 = next(
        r for r in before["data"] if r["bot"] == "support" and r["date"] == "2026-08-01"
    )
    assert support_day1["avg_latency_ms"] == 200.0
    assert support_day1["max_latency_ms"] == 300


def test_live_and_archived_rows_of_a_day_merge_and_averages_stay_exact(api, tenant):
    bot = BotFactory(tenant=tenant, slug="support")
    gone, kept = ConversationFactory(bot=bot), ConversationFactory(bot=bot)
    _turn(gone, DAY1, latency=100, tokens=5)
    _turn(gone, DAY1, latency=100, tokens=5)
    _turn(kept, DAY1, latency=400, tokens=7)

    res = api.delete(f"/v1/conversations/{gone.pk}")
    assert res.status_code == 204, res.content

    (row,) = _usage(api)["data"]
    assert row["date"] == "2026-08-01"
    assert row["bot"] == "support"
    assert row["bot_id"] == str(bot.pk)
    assert row["messages"] == 6
    assert row["assistant_messages"] == 3
    assert row["prompt_tokens"] == 17
    assert row["total_tokens"] == 51
    assert row["avg_latency_ms"] == 200.0  # (100 + 100 + 400) / 3, not the mean of two means
    assert row["max_latency_ms"] == 400


def test_archived_usage_follows_the_filters_the_bot_and_the_keys_limits(
    api, client_for, tenant, other_api
):
    support, sales = (
        BotFactory(tenant=tenant, slug="support"),
        BotFactory(tenant=tenant, slug="sales"),
    )
    for bot, when in ((support, DAY1), (sales, DAY2)):
        conv = ConversationFactory(bot=bot)
        _turn(conv, when, latency=10)
        _old(conv)
    call_command("purge_conversations", "--older-than", "90d", stdout=io.StringIO())
    assert UsageArchive.objects.filter(tenant=tenant).count() == 2

    assert [r["bot"] for r in _usage(api, "?from=2026-08-02")["data"]] == ["sales"]
    assert [r["bot"] for r in _usage(api, "?to=2026-08-01")["data"]] == ["support"]
    assert [r["bot"] for r in _usage(api, "?bot=sales")["data"]] == ["sales"]
    assert [r["bot"] for r in _usage(api, f"?bot={support.pk}")["data"]] == ["support"]
    limited = client_for(tenant, ("read",), bots=[sales])
    assert [r["bot"] for r in _usage(limited)["data"]] == ["sales"]
    assert _usage(other_api)["data"] == []  # another tenant's key sees none of it

    # The bot renamed, then deleted: its archived rows follow it like its live ones.
    support.slug = "helpdesk"
    support.save()
    assert [r["bot"] for r in _usage(api, "?to=2026-08-01")["data"]] == ["helpdesk"]
    assert api.delete(f"/v1/bots/{support.pk}").status_code == 204
    (row,) = _usage(api, "?bot=helpdesk")["data"]
    assert row["bot_id"] is None
    assert row["messages"] == 2


def test_a_deleted_tenant_takes_its_archive_with_it(tenant):
    conv = ConversationFactory(bot=BotFactory(tenant=tenant))
    _turn(conv, DAY1, latency=10)
    _old(conv)
    call_command("purge_conversations", "--older-than", "90d", stdout=io.StringIO())
    assert UsageArchive.objects.filter(tenant=tenant).exists()
    tenant.delete()
    assert not UsageArchive.objects.exists()


def test_admin_deletes_keep_the_usage_too(client, tenant, api):
    from tenants.tests.admin_support import staff_client

    staff = staff_client(client, {tenant: "owner"})
    bot = BotFactory(tenant=tenant, slug="support")
    one, two, three = (ConversationFactory(bot=bot) for _ in range(3))
    for conv in (one, two, three):
        _turn(conv, DAY1, latency=10)
    res = staff.post(f"/admin/conversations/conversation/{one.pk}/delete/", {"post": "yes"})
    assert res.status_code == 302
    res = staff.post(
        "/admin/conversations/conversation/",
        {"action": "delete_selected", "_selected_action": [two.pk, three.pk], "post": "yes"},
    )
    assert res.status_code == 302
    assert not Conversation.objects.filter(tenant=tenant).exists()
    (row,) = _usage(api)["data"]
    assert row["messages"] == 6
