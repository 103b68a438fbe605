"""Keep Django's per-request cost low under ASGI (STREAMING.md: starting a request is what costs).

Two measures, both measured on the chat path (`bench/chat.py`, README "Chat streaming"):

1. **Inline middleware.** Django runs a ``MiddlewareMixin`` middleware under ASGI by hopping to a
   thread for ``process_request`` and again for ``process_response`` (``sync_to_async``), i.e.
   two thread switches per middleware per request. Security, Common and X-Frame-Options only
   read and set headers (no I/O), so the API chain uses the ``Inline*`` subclasses below, which
   run the same hooks directly on the event loop. (``settings.MIDDLEWARE`` keeps Django's own
   classes: ``check --deploy`` looks for them by name.)

2. **A lean chain for the JSON API.** Every ``/v1/`` route authenticates with an API key or a
   JWT (DRF's classes are ``APIKeyAuthentication`` and ``TenantJWTAuthentication``; no
   session authentication), so sessions, ``request.user``, OTP, messages, CSRF and WhiteNoise
   do nothing useful there but cost thread hops (WhiteNoise is sync-only: the whole chain below
   it would hop to a thread and back). ``APIASGIHandler`` is Django's ASGI handler built from
   ``settings.API_MIDDLEWARE`` instead of ``settings.MIDDLEWARE``; ``http_application`` sends
   ``/v1/...`` to it and everything else (admin, playground, widget demo, static) to the full
   chain. Django's test client always uses the full chain (a superset), so tests exercise the
   same views with more middleware, never less.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.security import SecurityMiddleware

API_PREFIX = "/v1/"


class _InlineHooks:
    """``__acall__`` for a MiddlewareMixin whose hooks do no I/O: no thread hops."""

    async def __acall__(self, request: Any) -> Any:
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)  # type: ignore[attr-defined]
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class InlineSecurityMiddleware(_InlineHooks, SecurityMiddleware):
    pass


class InlineCommonMiddleware(_InlineHooks, CommonMiddleware):
    pass


class InlineXFrameOptionsMiddleware(_InlineHooks, XFrameOptionsMiddleware):
    pass


class APIASGIHandler(ASGIHandler):
    """Django's ASGI handler with ``settings.API_MIDDLEWARE`` as its middleware chain."""

    def load_middleware(self, is_async: bool = False) -> None:
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = full


def http_application(full_app: Any) -> Any:
    """An ASGI HTTP app: ``/v1/...`` through the lean chain, the rest through ``full_app``."""
    api_app = APIASGIHandler()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        target = api_app if path.startswith(API_PREFIX) else full_app
        await target(scope, receive, send)

    return app
