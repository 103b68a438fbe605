"""WebSocket routes. The chat consumer lives in conversations.consumers (chat issue)."""

from django.urls import path

websocket_urlpatterns: list = []

try:  # the consumer is added by the conversations app
    from conversations.consumers import ChatConsumer

    websocket_urlpatterns.append(path("ws/chat/", ChatConsumer.as_asgi()))
except ImportError:  # pragma: no cover
    pass
