"""The chat socket does not depend on the channel layer's Redis (nothing is sent to it through
the layer): a layer that cannot be reached leaves sockets open and answering."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from chatbot_project.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

Q = "How do I limit anonymous clients per day?"
DEAD_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:9/0", "socket_connect_timeout": 1}]},
    }
}


def test_chat_socket_works_while_the_channel_layer_is_unreachable(kb, make_key, settings):
    settings.CHAT_PROVIDER = "extractive"
    settings.CHANNEL_LAYERS = DEAD_LAYER  # (the setting_changed signal resets the layers)
    key = make_key(kb.tenant)

    async def run():
        comm = WebsocketCommunicator(application, f"/ws/chat/?key={key}")
        assert (await comm.connect(timeout=10))[0]
        events = []
        for question in (Q, "And per user?"):
            await comm.send_json_to({"type": "chat", "bot": "helper", "message": question})
            while True:
                event = await comm.receive_json_from(timeout=20)
                events.append(event)
                if event["type"] in ("end", "error"):
                    break
        await comm.disconnect()
        return events

    try:
        events = async_to_sync(run)()
    finally:
        channel_layers.backends.clear()
    ends = [e for e in events if e["type"] in ("end", "error")]
    assert [e["type"] for e in ends] == ["end", "end"], ends
