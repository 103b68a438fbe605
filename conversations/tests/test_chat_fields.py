"""A chat request (POST /v1/chat, fast lane and Django; WebSocket frames) with a field the route
does not take is a 400 naming it, as on every other route: a `history` or `temperature` the
server silently dropped would not do what the client meant."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application
from conversations.models import Conversation
from conversations.tests.helpers import chat

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::Warning"),
]

Q = "How do I limit anonymous clients per day?"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"history": [{"role": "user", "content": "hi"}]}, "send `conversation_id` to continue"),
        ({"messages": [{"role": "user", "content": Q}]}, "/v1/openai/chat/completions"),
        ({"temperature": 0.1}, "`temperature` is not a field of a chat request"),
        ({"conversationId": "x"}, "`conversationId` is not a field"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_unknown_fields_are_a_400_naming_them(client, key, settings, extra, words, stream):
    settings.CHAT_PROVIDER = "extractive"
    status, body = chat(client, key, bot="helper", message=Q, stream=stream, **extra)
    assert status == 400, body
    assert body["error"]["type"] == "invalid_request"
    assert words in body["error"]["message"]
    assert body["error"]["details"]["unknown_fields"] == list(extra)
    assert not Conversation.objects.exists()


def test_every_documented_field_is_taken(client, key, settings):
    settings.CHAT_PROVIDER = "extractive"
    status, body = chat(
        client, key, bot="helper", message=Q, stream=False, user="u1", metadata={"a": 1},
        scope=None, conversation_id=None,
    )  # fmt: skip
    assert status == 200, body


async def _ws_events(key: str, frame: dict) -> list[dict]:
    comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to(frame)
    events = []
    while True:
        event = await comm.receive_json_from(timeout=20)
        events.append(event)
        if event["type"] in ("end", "error"):
            break
    await comm.disconnect()
    return events


def test_websocket_frame_with_an_unknown_field(key, settings):
    settings.CHAT_PROVIDER = "extractive"
    frame = {"type": "chat", "bot": "helper", "message": Q}
    events = async_to_sync(_ws_events)(key, {**frame, "history": []})
    assert events[-1]["type"] == "error"
    assert "`history` is not a field" in events[-1]["error"]["message"]
    assert async_to_sync(_ws_events)(key, frame)[-1]["type"] == "end"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"metadata": []}, "`metadata` must be a JSON object"),
        ({"metadata": ""}, "`metadata` must be a JSON object"),
        ({"metadata": False}, "`metadata` must be a JSON object"),
        ({"user": []}, "`user` must be a string"),
        ({"user": 0}, "`user` must be a string"),
    ],
)
def test_falsy_values_of_the_wrong_type_are_a_400(client, key, settings, extra, words):
    """API.md: `metadata` is an object and `user` a string. An empty list, 0 or false was read
    as absent (`or {}`) and answered 200, while a non-empty one was a 400; null stays absent."""
    settings.CHAT_PROVIDER = "extractive"
    status, body = chat(client, key, bot="helper", message=Q, **extra)
    assert status == 400, body
    assert body["error"]["type"] == "invalid_request"
    assert words in body["error"]["message"]
    assert not Conversation.objects.exists()
    status, body = chat(client, key, bot="helper", message=Q, user=None, metadata=None)
    assert status == 200, body
