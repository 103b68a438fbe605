"""ASGI entry point: HTTP through Django (the JSON API through a lean middleware chain, see
``chatbot_project.lean``), WebSocket through Channels (``/ws/chat/``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chatbot_project.bodylimit import limit_body  # noqa: E402
from chatbot_project.lean import http_application  # noqa: E402
from chatbot_project.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # /v1/... through a lean middleware chain, the rest through Django's full one.
        # Bodies over the ceiling are refused where they are read (bodylimit.py).
        "http": limit_body(http_application(django_asgi_app)),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
