"""POST /v1/messages/{id}/feedback and the end user, as for continuing a conversation
(test_continue_end_user.py): the widget rates its visitor's answers with the site's browser key
and the same `user` it chats with. Before, `user` was refused as an unknown field (400), and a
browser key rated any answer of its bot by id: one visitor could rate another's. Now a rating that
names a `user` (and any on a browser key, whose visitors are not trusted to leave it out) applies
only to that end user's answers; another's reads as missing (404, the sentence of an id that exists
nowhere). A server-side key naming no `user` rates any answer it may read, as before."""

from __future__ import annotations

import uuid

import pytest

from conversations.models import Message
from conversations.tests.helpers import SHOP, chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]

MISSING = "No such message, or it is not visible to this credential."


def _answer(client, key, **body) -> str:
    status, out = chat(client, key, bot="helper", message="What is throttling?", **body)
    assert status == 200, out
    return out["message_id"]


def _rate(client, key, message_id, **body):
    return client.post(
        f"/v1/messages/{message_id}/feedback", body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ORIGIN=SHOP,
    )  # fmt: skip


@pytest.fixture
def site(kb, make_key, settings) -> str:
    """The widget's key: chat only, the bot, the shop's origin."""
    settings.CHAT_PROVIDER = "extractive"
    return make_key(kb.tenant, ("chat",), bots=[kb.bot], allowed_origins=[SHOP])


def test_a_visitor_rates_their_own_answer_and_changes_their_mind(client, site):
    alices = _answer(client, site, user="anon-alice")
    res = _rate(client, site, alices, rating="up", user="anon-alice")
    assert res.status_code == 200, res.content
    assert res.json()["feedback"]["rating"] == "up"
    assert res["Access-Control-Allow-Origin"] == SHOP  # the widget's page can read the answer
    res = _rate(client, site, alices, rating="down", user="anon-alice")
    assert res.status_code == 200, res.content
    assert Message.objects.get(id=alices).feedback_rating == "down"


def test_a_visitor_cannot_rate_another_visitors_answer(client, site, key):
    alices = _answer(client, site, user="anon-alice")
    anonymous = _answer(client, key)  # a server-side chat naming no user
    unknown = str(uuid.uuid4())
    for message_id, fields in [
        (alices, {"user": "anon-bob"}),
        (alices, {}),  # on a browser key, naming no user is not a way around it
        (anonymous, {"user": "anon-bob"}),
        (unknown, {"user": "anon-bob"}),
    ]:
        res = _rate(client, site, message_id, rating="down", **fields)
        assert res.status_code == 404, (message_id, fields, res.content)
        assert res.json()["error"] == {"type": "not_found", "message": MISSING}
    assert Message.objects.get(id=alices).feedback_rating == ""
    assert Message.objects.get(id=anonymous).feedback_rating == ""


def test_server_side_keys_rate_any_answer_unless_they_name_a_user(client, site, key):
    alices = _answer(client, site, user="anon-alice")
    assert _rate(client, key, alices, rating="down", user="anon-bob").status_code == 404
    assert Message.objects.get(id=alices).feedback_rating == ""
    assert _rate(client, key, alices, rating="up", user="anon-alice").status_code == 200
    assert _rate(client, key, alices, rating="down").status_code == 200  # the tenant's backend
    assert Message.objects.get(id=alices).feedback_rating == "down"


@pytest.mark.parametrize("user", [7, ["anon-alice"], "x" * 201])
def test_a_user_that_is_not_a_short_string_is_a_400(client, site, user):
    alices = _answer(client, site, user="anon-alice")
    res = _rate(client, site, alices, rating="up", user=user)
    assert res.status_code == 400, res.content
    assert "user" in res.json()["error"]["details"]["fields"]
    assert Message.objects.get(id=alices).feedback_rating == ""
