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
from chatbot_project.write_timeout import write_timeout  # noqa: E402

application = ProtocolTypeRouter(
    {
        # /v1/... through a lean middleware chain, the rest through Django's full one.
        # Bodies over the ceiling are refused where they are read (bodylimit.py); a chat
        # client that stops reading is given up after SSE_WRITE_TIMEOUT_SECONDS (write_timeout.py).
        "http": limit_body(write_timeout(http_application(django_asgi_app))),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)


# daphne reads no X-Forwarded-For: behind a proxy every visitor had the proxy's address, so the
# per-visitor limits (browser keys) and the sign-in limit per address held the whole site to one
# visitor's share. It serves this instead (chatbot_project.serve): the client address and scheme
# from the proxy's headers on uvicorn's terms, i.e. only from a peer in FORWARDED_ALLOW_IPS
# (default 127.0.0.1; "*" trusts any), the variable uvicorn reads for the same purpose.
def _behind_proxy(app):
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return ProxyHeadersMiddleware(app, os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))


daphne_application = _behind_proxy(application)
