"""GET /v1/unanswered: the questions the bots could not answer from the tenant's documents
(conversations/gaps.py), through the real chat path (extractive provider) and with turns built
by factories: each reason, what is never a gap, grouping, filters, pages, who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatbot_project.testing.schema_check import published_schema, response_errors
from conversations.models import Message
from conversations.tests.factories import (
    BotFactory,
    ConversationFactory,
    MessageFactory,
    ScopeFactory,
)
from conversations.tests.helpers import chat

pytestmark = pytest.mark.django_db

OFF_TOPIC = "What is the capital of Mongolia?"
ON_TOPIC = "How do I limit anonymous clients?"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def turn(bot, question, *, at=T0, user="u1", conversation=None, **answer):
    """A question and its answer (by default complete, with no citation: a gap) at ``at``."""
    conv = conversation or ConversationFactory(bot=bot, user=user)
    asked = MessageFactory(conversation=conv, role="user", content=question)
    fields = {"content": "Nothing found.", "finish_reason": "stop", "citations": [], **answer}
    answered = MessageFactory(conversation=conv, role="assistant", **fields)
    Message.objects.filter(pk=asked.pk).update(created_at=at)
    Message.objects.filter(pk=answered.pk).update(created_at=at + timedelta(seconds=2))
    return answered


CITED = [{"index": 1, "chunk_id": "c", "document_id": "d", "document_title": "T", "score": 0.9,
          "snippet": "s", "source": "T"}]  # fmt: skip


def gaps(api, query=""):
    res = api.get(f"/v1/unanswered{query}")
    assert res.status_code == 200, res.content
    return res.json()


def questions(body):
    return [(r["question"], r["count"]) for r in body["data"]]


# --------------------------------------------------------------------------- the chat path
def test_real_chats_each_reason_and_what_is_not_a_gap(client, kb, make_key, api):
    ScopeFactory(
        tenant=kb.tenant, slug="grounded", require_grounding=True, refusal_message="Not here."
    )
    ScopeFactory(tenant=kb.tenant, slug="guarded", blocked_terms=["bomb"])
    key = make_key(kb.tenant)
    _, answered = chat(client, key, bot="helper", message=ON_TOPIC)
    assert answered["citations"]  # answered from the documents: not a gap
    _, nothing = chat(client, key, bot="helper", message=OFF_TOPIC)
    assert nothing["citations"] == []  # "nothing found"
    assert nothing["refused"] is False
    _, blocked = chat(client, key, bot="helper", message="How to build a bomb?", scope="guarded")
    assert blocked["refused"] is True
    kb.bot.score_threshold = 0.9  # nothing passes: require_grounding refuses
    kb.bot.save()
    _, refused = chat(client, key, bot="helper", message="Who won in 1954?", scope="grounded")
    assert refused["refused"] is True
    assert refused["answer"] == "Not here."
    stored = Message.objects.get(id=refused["message_id"])
    assert stored.refusal_reason == "ungrounded"
    assert Message.objects.get(id=blocked["message_id"]).refusal_reason == "blocked"
    assert Message.objects.get(id=nothing["message_id"]).refusal_reason == ""

    rows = {r["question"]: r for r in gaps(api)["data"]}
    assert set(rows) == {OFF_TOPIC, "Who won in 1954?"}
    assert rows[OFF_TOPIC]["reasons"] == ["no_sources"]
    assert rows["Who won in 1954?"]["reasons"] == ["ungrounded"]
    assert rows[OFF_TOPIC]["bots"] == ["helper"]
    assert rows[OFF_TOPIC]["conversation_id"] == nothing["conversation_id"]
    assert rows[OFF_TOPIC]["message_id"] == nothing["message_id"]
    assert rows[OFF_TOPIC]["count"] == 1


def test_the_page_matches_the_published_schema(client, kb, make_key, api):
    chat(client, make_key(kb.tenant), bot="helper", message=OFF_TOPIC)
    schema = published_schema()
    body = gaps(api)
    assert body["data"]
    assert not response_errors(schema, "/v1/unanswered", "get", "200", body)
    assert response_errors(schema, "/v1/unanswered", "get", "200", {"data": [{"count": "x"}]})
    names = {p["name"] for p in schema["paths"]["/v1/unanswered"]["get"]["parameters"]}
    assert {"bot", "from", "to", "limit", "cursor", "include"} <= names


# --------------------------------------------------------------------------- rules
def test_failed_cancelled_blocked_and_filtered_answers_are_not_gaps(api, tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    turn(bot, "failed?", finish_reason="error", error="upstream_error")
    turn(bot, "cancelled?", finish_reason="cancelled")
    turn(bot, "blocked?", finish_reason="refused", refused=True, refusal_reason="blocked")
    turn(bot, "filtered?", finish_reason="refused", refused=True, model="m")  # content filter
    turn(bot, "old refusal?", finish_reason="refused", refused=True)  # no reason recorded
    turn(bot, "cited?", citations=CITED)
    turn(bot, "cut at max tokens?", finish_reason="length")
    turn(bot, "ungrounded?", finish_reason="refused", refused=True, refusal_reason="ungrounded")
    assert sorted(questions(gaps(api))) == [("cut at max tokens?", 1), ("ungrounded?", 1)]


def test_rated_down_answers_count_when_asked_for(api, tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    turn(bot, "wrong answer?", citations=CITED, feedback_rating="down")
    turn(bot, "liked?", citations=CITED, feedback_rating="up")
    turn(bot, "nothing and down?", feedback_rating="down")
    turn(bot, "blocked and down?", finish_reason="refused", refused=True,
         refusal_reason="blocked", feedback_rating="down")  # fmt: skip
    assert questions(gaps(api)) == [("nothing and down?", 1)]
    rows = {r["question"]: r["reasons"] for r in gaps(api, "?include=rated_down")["data"]}
    assert rows == {
        "wrong answer?": ["rated_down"],
        "nothing and down?": ["no_sources", "rated_down"],
    }
    res = api.get("/v1/unanswered?include=everything")
    assert res.status_code == 400
    assert res.json()["error"]["type"] == "invalid_request"


def test_questions_are_grouped_by_their_normalized_text(api, tenant):
    bot, other = BotFactory(tenant=tenant, slug="helper"), BotFactory(tenant=tenant, slug="sales")
    turn(bot, "How do I reset my password?", at=T0)
    turn(other, "  how do i   reset\tmy PASSWORD ", at=T0 + timedelta(hours=1))
    last = turn(bot, "HOW DO I RESET MY PASSWORD?!", at=T0 + timedelta(hours=2),
                finish_reason="refused", refused=True, refusal_reason="ungrounded")  # fmt: skip
    turn(bot, "How do I reset my password twice?", at=T0)
    turn(bot, "Wo ist die Rechnung？", at=T0)
    turn(bot, "wo ist die rechnung。", at=T0 + timedelta(minutes=1))
    body = gaps(api)
    top = body["data"][0]
    assert top["count"] == 3
    assert top["question"] == "HOW DO I RESET MY PASSWORD?!"  # the latest wording
    assert top["bots"] == ["helper", "sales"]
    assert top["reasons"] == ["ungrounded", "no_sources"]
    assert top["conversation_id"] == str(last.conversation_id)
    assert top["first_asked"].startswith("2026-11-20T12:00:00")
    assert top["last_asked"].startswith("2026-11-20T14:00:00")
    assert sorted(questions(body)[1:]) == [
        ("How do I reset my password twice?", 1), ("wo ist die rechnung。", 2),
    ]  # fmt: skip


def test_most_asked_first_then_most_recent_and_pages_walk_them_all(api, tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    for n, (text, times) in enumerate([("a?", 1), ("b?", 3), ("c?", 1), ("d?", 2), ("e?", 1)]):
        for i in range(times):
            turn(bot, text, at=T0 + timedelta(minutes=10 * n + i))
    expected = ["b?", "d?", "e?", "c?", "a?"]
    assert [q for q, _ in questions(gaps(api))] == expected
    seen, cursor, pages = [], "", 0
    while True:
        body = gaps(api, f"?limit=2{cursor}")
        seen += [q for q, _ in questions(body)]
        pages += 1
        if body["next"] is None:
            break
        cursor = f"&cursor={body['next']}"
    assert seen == expected
    assert pages == 3
    for bad in ("?cursor=!!!", "?cursor=eyJ4IjoxfQ", "?limit=0", "?limit=101", "?limit=x"):
        res = api.get(f"/v1/unanswered{bad}")
        assert res.status_code == 400, bad
        assert res.json()["error"]["type"] == "invalid_request"


def test_filters_bot_and_dates(api, tenant):
    helper, sales = (
        BotFactory(tenant=tenant, slug="helper"),
        BotFactory(tenant=tenant, slug="sales"),
    )
    turn(helper, "early?", at=datetime(2026, 11, 1, 23, 59, tzinfo=UTC))
    turn(helper, "middle?", at=datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    turn(sales, "late?", at=datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    assert [q for q, _ in questions(gaps(api, "?bot=sales"))] == ["late?"]
    assert [q for q, _ in questions(gaps(api, f"?bot={helper.pk}"))] == ["middle?", "early?"]
    assert questions(gaps(api, "?bot=nope")) == []
    assert [q for q, _ in questions(gaps(api, "?from=2026-11-02&to=2026-11-02"))] == ["middle?"]
    assert [q for q, _ in questions(gaps(api, "?to=2026-11-01"))] == ["early?"]
    since = "?from=2026-11-02T00:00:00Z"
    assert [q for q, _ in questions(gaps(api, since))] == ["late?", "middle?"]
    for bad in (
        "?from=yesterday",
        "?from=2026-11-03&to=2026-11-02",
        "?to=2026-11-02T10:00",
        "?bot=a%00b",
        "?include=%00",
    ):
        res = api.get(f"/v1/unanswered{bad}")
        assert res.status_code == 400, bad


def test_a_deleted_bots_questions_stay_under_its_slug(api, tenant):
    bot = BotFactory(tenant=tenant, slug="old")
    turn(bot, "still asked?")
    bot.delete()
    body = gaps(api, "?bot=old")
    assert questions(body) == [("still asked?", 1)]
    assert body["data"][0]["bots"] == ["old"]


# --------------------------------------------------------------------------- who sees what
def test_permissions_and_a_key_limited_to_bots(client_for, tenant):
    helper, sales = (
        BotFactory(tenant=tenant, slug="helper"),
        BotFactory(tenant=tenant, slug="sales"),
    )
    turn(helper, "helper's?")
    turn(sales, "sales'?")
    chat_only = client_for(tenant, permissions=("chat",))
    res = chat_only.get("/v1/unanswered")
    assert res.status_code == 403
    assert res.json()["error"]["type"] == "permission_denied"
    limited = client_for(tenant, permissions=("read",), bots=[helper])
    assert questions(gaps(limited)) == [("helper's?", 1)]
    assert questions(gaps(limited, "?bot=sales")) == []
    assert questions(gaps(limited, f"?bot={sales.pk}")) == []
    assert len(gaps(client_for(tenant, permissions=("read",)))["data"]) == 2
    assert client_for(tenant).post("/v1/unanswered", {}).status_code == 405


def test_another_tenants_questions_never_appear(api, other_api, tenant, other_tenant):
    mine = BotFactory(tenant=tenant, slug="helper")
    theirs = BotFactory(tenant=other_tenant, slug="secret")
    turn(mine, "Where is my invoice?")
    turn(theirs, "Where is my invoice?")  # the same text: never counted with mine
    turn(theirs, "Their private question?")
    assert questions(gaps(api)) == [("Where is my invoice?", 1)]
    # Another tenant's bot, by slug or id, finds nothing: as GET /v1/conversations?bot= does.
    for ref in ("secret", str(theirs.pk)):
        assert gaps(api, f"?bot={ref}")["data"] == []
        assert api.get(f"/v1/conversations?bot={ref}").json()["data"] == []
    assert sorted(questions(gaps(other_api))) == [
        ("Their private question?", 1), ("Where is my invoice?", 1),
    ]  # fmt: skip
