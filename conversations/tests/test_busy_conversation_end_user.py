"""A chat naming another end user's conversation while that conversation is answering reads
it as missing (404, worded as for an unknown id), on every surface (Django's JSON and SSE, the
fast lane's JSON and SSE, the WebSocket). Before, the conversation's lock (taken in Redis beside
the chat's preparation) answered first: 409 `conflict` "still answering its previous message",
which told a visitor that the id exists and is in use. Its own end user still gets the 409,
as does a new conversation's client while its first answer streams (not stored yet).
(The OpenAI-compatible route starts a new conversation each time: nothing to lock by id.)"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from chatbot_project.redis_client import get_redis
from conversations.slots import conversation_lock_key
from conversations.tests.helpers import SHOP, parse_sse
from conversations.tests.test_fastlane import _django, _post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::Warning"),
]

SURFACES = ["django json", "django sse", "fast lane json", "fast lane sse", "ws"]


def _ws(key: str, body: dict) -> dict:
    """The last event (``end`` or ``error``) of one chat on a socket."""

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", **body})
        event = await comm.receive_json_from(timeout=20)
        while event["type"] not in ("end", "error"):
            event = await comm.receive_json_from(timeout=20)
        await comm.disconnect()
        return event

    return async_to_sync(run)()


def _ask(surface: str, key: str, **body) -> dict | None:
    """The error body of one chat (None when it was answered)."""
    body = {"bot": "helper", "message": "Where does my order go?", **body}
    if surface == "ws":
        event = _ws(key, body)
        return event if event["type"] == "error" else None
    lane, kind = surface.rsplit(" ", 1)
    res = _post(
        key, {**body, "stream": kind == "sse"}, app=_django() if lane == "django" else None,
        path="/v1/chat",
    )  # fmt: skip
    if res.status_code != 200:
        return res.json()
    if kind == "sse":
        events = parse_sse(res.text)
        assert events[-1][0] == "end", events
    return None


@pytest.mark.parametrize("surface", SURFACES)
def test_another_end_users_busy_conversation_reads_as_missing(kb, make_key, openai_stub, surface):
    key = make_key(kb.tenant, ("chat",))
    site = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    res = _post(
        key, {"bot": "helper", "message": "My order is 4411.", "user": "alice"},
        app=_django(), path="/v1/chat",
    )  # fmt: skip
    assert res.status_code == 200, res.text
    alices = res.json()["conversation_id"]
    unknown = _ask(surface, key, conversation_id=str(uuid.uuid4()), user="bob")
    assert unknown is not None
    assert unknown["error"]["type"] == "not_found", unknown
    # Alice's conversation is answering (its lock held, as by a chat in another process).
    lock = conversation_lock_key(SimpleNamespace(tenant=kb.tenant), alices)
    get_redis().set(lock, "a chat answering", ex=60)
    asked = len(openai_stub.chat_requests())
    for name, credential, fields in (
        ("bob", key, {"user": "bob"}),
        ("the site, no user", site, {}),
        ("bob on the site", site, {"user": "bob"}),
    ):
        error = _ask(surface, credential, conversation_id=alices, **fields)
        assert error is not None, name
        assert error["error"]["type"] == "not_found", (name, error)
        assert error["error"]["message"] == unknown["error"]["message"], name
    # Its own end user is told it is busy, and the lock is still the running chat's.
    error = _ask(surface, key, conversation_id=alices, user="alice")
    assert error is not None
    assert error["error"]["type"] == "conflict", error
    assert get_redis().get(lock) == b"a chat answering"
    # A new conversation is stored some time into its first answer: a message its client sends
    # meanwhile is told it is busy (409, as before), not that it is missing.
    fresh = str(uuid.uuid4())
    get_redis().set(conversation_lock_key(SimpleNamespace(tenant=kb.tenant), fresh), "1st", ex=60)
    error = _ask(surface, site, conversation_id=fresh, user="carol")
    assert error is not None
    assert error["error"]["type"] == "conflict", error
    assert len(openai_stub.chat_requests()) == asked
    get_redis().delete(lock)
    assert _ask(surface, key, conversation_id=alices, user="alice") is None
