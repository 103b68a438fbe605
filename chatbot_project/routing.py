"""WebSocket routes. The chat consumer lives in conversations.consumers (chat issue).

``/ws/chat`` (no slash) is the chat socket too, and any other path is refused with an ``error``
event (``not_found``) and close code 4404: Channels' router raised on an unknown path, which a
real server answered with an HTTP 500 and a logged traceback."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.urls import re_path

CLOSE_NOT_FOUND = 4404


class NoRoute(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None  # type: ignore[assignment]

    async def connect(self) -> None:
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=offered[0] if offered else None)  # (else browsers fail)
        message = f"There is no WebSocket at {self.scope['path'][:200]!r}; chats are at /ws/chat/."
        await self.send_json({"type": "error", "error": {"type": "not_found", "message": message}})
        await self.close(code=CLOSE_NOT_FOUND, reason="not_found")

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        return None  # closed: frames sent meanwhile are not read


websocket_urlpatterns: list = []

try:  # the consumer is added by the conversations app
    from conversations.consumers import ChatConsumer

    websocket_urlpatterns.append(re_path(r"^ws/chat/?$", ChatConsumer.as_asgi()))
except ImportError:  # pragma: no cover
    pass
websocket_urlpatterns.append(re_path(r"", NoRoute.as_asgi()))
