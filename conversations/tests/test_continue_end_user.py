"""A conversation is its end user's: a chat naming another `user` (and, on a browser key, one
naming none) that sends its conversation_id reads it as missing (404, the same sentence as an id
that exists nowhere), over JSON, SSE and the WebSocket. Before, Bob's chat continued Alice's
conversation: her turns went to the model as his history (so "what did I ask before?" answered
with her questions) and his turn was appended to her conversation. A server-side key naming no
user continues it as before (the caller holding the id is the tenant's own backend)."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from conversations.models import Message
from conversations.tests.helpers import chat

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::Warning"),
]

SECRET = "My order 4411 goes to 12 Elm Street."


def _ws_chat(key: str, **frame) -> list[dict]:
    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect())[0]
        await comm.send_json_to({"type": "chat", **frame})
        events = [await comm.receive_json_from(timeout=20)]
        while events[-1]["type"] not in ("end", "error"):
            events.append(await comm.receive_json_from(timeout=20))
        await comm.disconnect()
        return events

    return async_to_sync(run)()


def _ask(client, key, transport, **body):
    """(error or None, conversation_id) of one chat over ``transport``."""
    if transport == "ws":
        events = _ws_chat(key, **body)
        last = events[-1]
        return (last if last["type"] == "error" else None), events[0].get("conversation_id")
    status, out = chat(client, key, stream=transport == "sse", **body)
    if status != 200:
        return out, None
    if transport == "sse":
        names = [name for name, _ in out]
        assert names[-1] == "end", out
        return None, out[0][1]["conversation_id"]
    return None, out["conversation_id"]


@pytest.mark.parametrize("transport", ["json", "sse", "ws"])
def test_another_end_users_conversation_reads_as_missing(
    client, kb, make_key, openai_stub, transport
):
    key = make_key(kb.tenant)
    site = make_key(kb.tenant, ("chat",), allowed_origins=["https://shop.example"])
    error, alices = _ask(client, key, transport, bot="helper", message=SECRET, user="alice")
    assert error is None, error
    _, anonymous = _ask(client, key, transport, bot="helper", message="What is throttling?")
    asked = len(openai_stub.chat_requests())
    missing_error, _ = _ask(
        client, key, transport, bot="helper", message="Where does my order go?",
        conversation_id=str(uuid.uuid4()), user="bob",
    )  # fmt: skip
    refused = {
        "bob": (key, dict(conversation_id=alices, user="bob")),
        "bob on an anonymous one": (key, dict(conversation_id=anonymous, user="bob")),
        "bob's site": (site, dict(conversation_id=alices, user="bob")),
        "the site, no user": (site, dict(conversation_id=alices)),
    }
    for name, (credential, fields) in refused.items():
        error, _ = _ask(
            client, credential, transport, bot="helper", message="Where is it?", **fields
        )
        assert error is not None, name
        assert error["error"]["type"] == "not_found", (name, error)
        # Word for word what an id that exists nowhere gets (details: the id echoed on the socket)
        assert error["error"]["message"] == missing_error["error"]["message"], name
    assert len(openai_stub.chat_requests()) == asked  # the model never saw her turns
    assert Message.objects.filter(conversation_id=alices).count() == 2  # nothing appended
    error, continued = _ask(
        client, key, transport, bot="helper", message="Where does it go?",
        conversation_id=alices, user="alice",
    )  # fmt: skip
    assert error is None, error
    assert continued == alices
    assert SECRET in [m["content"] for m in openai_stub.chat_requests()[-1].messages]
    for conversation in (anonymous, alices):  # the tenant's backend, naming no user
        error, continued = _ask(
            client, key, transport, bot="helper", message="And then?",
            conversation_id=conversation,
        )  # fmt: skip
        assert error is None, error
        assert continued == conversation
