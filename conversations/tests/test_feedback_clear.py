"""DELETE /v1/messages/{id}/feedback withdraws a rating (the widget's and playground's thumbs
toggle: a second click on the pressed thumb). Before, a rating once given could only be swapped
for the other one (DELETE was a 405), so a visitor's mistaken thumb stayed in GET /v1/usage and
?rating= for good. The clear keeps the rating's rules: the `chat` permission, a browser key clears
only its own visitor's answers (named by the `user` query parameter), another tenant's message or
another visitor's answer is the 404 of an id that exists nowhere."""

from __future__ import annotations

import pytest

from conversations.models import Message
from conversations.tests.helpers import SHOP, chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

MISSING = "No such message, or it is not visible to this credential."


def _answer(client, key, **body) -> str:
    status, out = chat(client, key, bot="helper", message="What is throttling?", **body)
    assert status == 200, out
    return out["message_id"]


def _rate(client, key, message_id, rating, **body):
    return client.post(
        f"/v1/messages/{message_id}/feedback", {"rating": rating, **body},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ORIGIN=SHOP,
    )  # fmt: skip


def _clear(client, key, message_id, user=None, **extra):
    query = "" if user is None else f"?user={user}"
    return client.delete(
        f"/v1/messages/{message_id}/feedback{query}",
        HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ORIGIN=SHOP, **extra,
    )  # fmt: skip


def _usage(client, key) -> tuple[int, int]:
    res = client.get("/v1/usage", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert res.status_code == 200, res.content
    return res.json()["totals"]["feedback_up"], res.json()["totals"]["feedback_down"]


@pytest.fixture
def site(kb, make_key, settings) -> str:
    """The widget's key: chat only, the bot, the shop's origin."""
    settings.CHAT_PROVIDER = "extractive"
    return make_key(kb.tenant, ("chat",), bots=[kb.bot], allowed_origins=[SHOP])


def test_a_visitor_clears_their_rating_and_the_reports_forget_it(client, site, key):
    alices = _answer(client, site, user="anon-alice")
    assert _rate(client, site, alices, "up", user="anon-alice", comment="nice").status_code == 200
    assert _usage(client, key) == (1, 0)
    listed = client.get("/v1/conversations?rating=up", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert len(listed.json()["data"]) == 1

    res = _clear(client, site, alices, user="anon-alice")
    assert res.status_code == 204, res.content
    assert res["Access-Control-Allow-Origin"] == SHOP  # the widget's page reads the outcome
    msg = Message.objects.get(id=alices)
    assert (msg.feedback_rating, msg.feedback_comment, msg.feedback_at) == ("", "", None)
    assert _usage(client, key) == (0, 0)
    listed = client.get("/v1/conversations?rating=up", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert listed.json()["data"] == []
    detail = client.get(
        f"/v1/conversations/{msg.conversation_id}", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert [m["feedback"] for m in detail.json()["messages"]] == [None, None]

    # Again (nothing to clear), then rated anew: both fine.
    assert _clear(client, site, alices, user="anon-alice").status_code == 204
    assert _rate(client, site, alices, "down", user="anon-alice").status_code == 200
    assert _usage(client, key) == (0, 1)


def test_a_visitor_cannot_clear_another_visitors_rating(client, site, key, other_tenant, make_key):
    alices = _answer(client, site, user="anon-alice")
    anonymous = _answer(client, key)  # a server-side chat naming no user
    for message_id in (alices, anonymous):
        assert _rate(client, key, message_id, "down").status_code == 200
    for message_id, user in [
        (alices, "anon-bob"),
        (alices, None),  # on a browser key, naming no user is not a way around it
        (alices, ""),
        (anonymous, "anon-bob"),
    ]:
        res = _clear(client, site, message_id, user=user)
        assert res.status_code == 404, (message_id, user, res.content)
        assert res.json()["error"] == {"type": "not_found", "message": MISSING}
    # Another tenant's key, even one allowed everything: the same 404.
    res = _clear(client, make_key(other_tenant), alices)
    assert res.status_code == 404, res.content
    assert res.json()["error"] == {"type": "not_found", "message": MISSING}
    assert Message.objects.get(id=alices).feedback_rating == "down"
    assert Message.objects.get(id=anonymous).feedback_rating == "down"
    assert _usage(client, key) == (0, 2)


def test_clearing_needs_the_chat_permission_and_takes_no_body(client, site, kb, key, make_key):
    alices = _answer(client, site, user="anon-alice")
    assert _rate(client, site, alices, "up", user="anon-alice").status_code == 200
    reader = make_key(kb.tenant, ("read",))
    res = _clear(client, reader, alices)
    assert res.status_code == 403, res.content
    # A `user` in a body would be silently ignored (a server key then clears anyone's): refused.
    res = _clear(client, key, alices, data='{"user": "anon-bob"}', content_type="application/json")
    assert res.status_code == 400, res.content
    assert "query parameter" in res.json()["error"]["message"]
    assert _clear(client, key, alices, user="x" * 201).status_code == 400  # (maxLength: 200)
    assert _clear(client, key, alices, user="anon-bob").status_code == 404  # server key naming one
    assert Message.objects.get(id=alices).feedback_rating == "up"
    # A server-side key naming no user clears any answer it may read (as it rates them).
    assert _clear(client, key, alices).status_code == 204
    assert Message.objects.get(id=alices).feedback_rating == ""


def test_clearing_a_question_is_refused(client, key):
    answer = Message.objects.get(id=_answer(client, key))
    question = Message.objects.get(conversation=answer.conversation, role="user")
    res = _clear(client, key, question.id)
    assert res.status_code == 400, res.content


def test_the_schema_documents_the_clear(client, key):
    schema = client.get("/v1/schema?format=json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert schema.status_code == 200
    operation = schema.json()["paths"]["/v1/messages/{message_id}/feedback"]["delete"]
    assert "204" in operation["responses"]
    (user,) = [p for p in operation["parameters"] if p["in"] == "query"]
    assert (user["name"], user["schema"]) == ("user", {"type": "string", "maxLength": 200})
    assert "requestBody" not in operation


def test_a_user_postgresql_cannot_store_is_a_400(client, site):
    """A NUL in ?user= is a 400 (the query string's own check), never a database error."""
    alices = _answer(client, site, user="anon-alice")
    res = _clear(client, site, alices, user="anon%00alice")
    assert res.status_code == 400, res.content
    assert "NUL" in res.json()["error"]["message"]
