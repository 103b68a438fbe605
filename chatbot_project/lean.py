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

3. **No per-request thread for async views that opt in** (``lean_async``). Django's ASGI handler
   wraps every request in a ``ThreadSensitiveContext`` and sends ``request_started`` /
   ``request_finished`` through ``sync_to_async``: its receivers are sync, so each request starts
   a fresh thread, hops to it twice and joins it (~1 ms of CPU, measured). Those receivers only
   close the *current thread's* database connections and caches. A view marked ``lean_async``
   does no database work in a thread-sensitive call (its queries run in ``db_sync``'s pool,
   whose threads keep and health-check their own connections), so for it the receivers run
   inline on the event loop, where they find nothing to close, and no thread is made. Marked:
   /v1/chat, /v1/retrieve, /v1/openai/chat/completions and /v1/openai/models.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix

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


def lean_async(view: Any) -> Any:
    """Mark an async view whose database work runs only in ``db_sync`` (see point 3 above)."""
    view.lean_async = True
    return view


@lru_cache(maxsize=1024)
def _is_lean(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path)
    except Resolver404:
        return False
    return bool(getattr(match.func, "lean_async", False))


class APIASGIHandler(ASGIHandler):
    """Django's ASGI handler with ``settings.API_MIDDLEWARE`` as its middleware chain, and no
    per-request thread for ``lean_async`` views."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _is_lean(scope.get("path", "")):
            await self.handle_inline(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def handle_inline(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """``ASGIHandler.handle`` (Django 5.2) with the request signals sent inline and no
        ``ThreadSensitiveContext``; the disconnect handling is Django's, unchanged."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            error_response.close()
            return

        async def process_request(request: Any, send: Any) -> Any:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # client gone while sending
                await self.send_response(response, send)
            return response

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            signals.request_finished.send(sender=self.__class__)
        else:
            response.close()  # sends request_finished
        body_file.close()

    def load_middleware(self, is_async: bool = False) -> None:
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async=is_async)
        finally:
            settings.MIDDLEWARE = full


def http_application(full_app: Any) -> Any:
    """An ASGI HTTP app: ``/v1/...`` through the lean chain (plain ``POST /v1/chat`` and
    ``/v1/retrieve`` without Django: ``chatbot_project.fastlane``), the rest through
    ``full_app``."""
    from conversations import chat_asgi, retrieve_asgi

    api_app = APIASGIHandler()
    # Plain POST /v1/chat and /v1/retrieve requests skip Django's request cycle (fastlane.py).
    lanes = {m.PATH: m.application(api_app) for m in (chat_asgi, retrieve_asgi)}
    if not settings.FAST_LANE:
        lanes = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        target = lanes.get(path)
        if target is None:
            target = api_app if path.startswith(API_PREFIX) else full_app
        await target(scope, receive, send)

    return app
