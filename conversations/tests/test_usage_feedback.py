"""GET /v1/usage counts the answers rated up and down, per day and bot, and after their
conversations are deleted. Before, ratings (POST /v1/messages/{id}/feedback) were stored on the
messages but no report summed them: how a bot was doing could only be read message by message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations.models import Message
from conversations.tests.factories import BotFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

DAY1 = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
DAY2 = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)


def _answers(conv, when, *ratings: str) -> None:
    for rating in ratings:
        user = MessageFactory(conversation=conv, role="user")
        answer = MessageFactory(conversation=conv, role="assistant", feedback_rating=rating)
        Message.objects.filter(pk__in=[user.pk, answer.pk]).update(created_at=when)


def _rows(api) -> dict:
    res = api.get("/v1/usage")
    assert res.status_code == 200, res.content
    body = res.json()
    rows = {(r["date"], r["bot"]): (r["feedback_up"], r["feedback_down"]) for r in body["data"]}
    return rows | {"totals": (body["totals"]["feedback_up"], body["totals"]["feedback_down"])}


def test_ratings_are_counted_per_day_and_bot_and_survive_deletion(api, tenant, other_tenant):
    support, sales = (
        BotFactory(tenant=tenant, slug="support"),
        BotFactory(tenant=tenant, slug="sales"),
    )
    first = ConversationFactory(bot=support)
    _answers(first, DAY1, "up", "up", "down", "")
    _answers(first, DAY2, "down")
    _answers(ConversationFactory(bot=sales), DAY1, "up", "")
    _answers(ConversationFactory(bot=BotFactory(tenant=other_tenant)), DAY1, "up", "down")
    expected = {
        ("2026-08-01", "sales"): (1, 0),
        ("2026-08-01", "support"): (2, 1),
        ("2026-08-02", "support"): (0, 1),
        "totals": (3, 2),
    }
    assert _rows(api) == expected

    assert api.delete(f"/v1/conversations/{first.id}").status_code == 204
    assert _rows(api) == expected  # summed into the usage archive first


def test_a_user_message_never_counts_as_a_rating(api, tenant):
    conv = ConversationFactory(bot=BotFactory(tenant=tenant, slug="support"))
    MessageFactory(conversation=conv, role="user", feedback_rating="up")
    assert _rows(api)["totals"] == (0, 0)


def test_conversations_can_be_listed_by_rating(api, tenant, other_tenant):
    bot = BotFactory(tenant=tenant, slug="support")
    liked, disliked, mixed, unrated = (ConversationFactory(bot=bot) for _ in range(4))
    _answers(liked, DAY1, "up")
    _answers(disliked, DAY1, "down")
    _answers(mixed, DAY1, "up", "down")
    _answers(unrated, DAY1, "")
    _answers(ConversationFactory(bot=BotFactory(tenant=other_tenant)), DAY1, "down")
    MessageFactory(conversation=unrated, role="user", feedback_rating="down")  # not an answer

    def listed(query: str) -> set[str]:
        res = api.get(f"/v1/conversations?{query}")
        assert res.status_code == 200, res.content
        return {c["id"] for c in res.json()["data"]}

    assert listed("rating=down") == {str(disliked.id), str(mixed.id)}
    assert listed("rating=up&bot=support") == {str(liked.id), str(mixed.id)}
    assert listed("") == {str(c.id) for c in (liked, disliked, mixed, unrated)}
    res = api.get("/v1/conversations?rating=bad")
    assert res.status_code == 400
    assert res.json()["error"]["type"] == "invalid_request"
    assert "`rating`" in res.json()["error"]["message"]
