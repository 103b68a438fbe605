"""Request id, one access-log line per request, and API.md's error body for Django's own errors."""

from __future__ import annotations

import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

from audit.context import bind_request, unbind_request
from chatbot_project.csp import PERMISSIONS_POLICY
from chatbot_project.errors import TYPES_BY_STATUS, error_response, unavailable_message

access_log = logging.getLogger("chatbot.access")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# The API's answers carry tenant data, new API keys and JWTs: no browser or proxy may keep them
# (RFC 6749 asks it of token answers). A route that sets its own Cache-Control keeps it (SSE).
API_CACHE_CONTROL = "no-store"
_DJANGO_MESSAGES = {
    404: "No route matches this path. See /docs for the API.",
    405: "This method is not allowed on this route.",
    500: "Something went wrong on our side; it has been logged.",
}


def _bad_query(request: HttpRequest) -> HttpResponseBase | None:
    """400 for a query string carrying the NUL character, which no filter can use and
    PostgreSQL refuses (a 500 before): ``?user=%00``."""
    raw = request.META.get("QUERY_STRING", "")
    if "%00" not in raw and "\x00" not in raw:
        return None
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return error_response(
                400,
                f"Query parameter `{name.replace(chr(0), '')}` contains the NUL character "
                "(%00); remove it.",
                "invalid_request",
            )
    return None


# Health probes (load balancers, Kubernetes, docker compose's healthcheck) call over plain HTTP
# with whatever Host they have (a pod IP, 127.0.0.1): answered before Django's host validation
# and HTTPS redirect, which made them 400 (a host not in ALLOWED_HOSTS) or a 301 to https://
# in production. They reveal nothing a host check would protect.
# /metrics too (Prometheus scrapes pod addresses; it has its own token).
_PROBES = {"/v1/health": "health", "/v1/health/ready": "ready", "/metrics": "metrics"}


def _probe_view(request: HttpRequest):
    name = _PROBES.get(request.path_info)
    if name is None or request.method not in ("GET", "HEAD"):
        return None
    if name == "metrics":
        from chatbot_project import metrics

        return metrics.metrics
    from chatbot_project import health

    return getattr(health, name)


def _with_security_headers(response: HttpResponseBase) -> HttpResponseBase:
    """The headers SecurityMiddleware and XFrameOptionsMiddleware give every other response."""
    from django.conf import settings

    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        value = policy if isinstance(policy, str) else ",".join(policy)
        response.headers.setdefault("Referrer-Policy", value)
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        response.headers.setdefault(
            "Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        )
    return response


class RequestContextMiddleware:
    """Sync and async capable so the streaming chat path never hops threads for it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        started = self._before(request)
        probe = _probe_view(request)
        if probe is not None:
            return self._after(request, _with_security_headers(probe(request)), started)
        bound = bind_request(request)  # the actor of audit events (a context variable, no I/O)
        try:
            response = _bad_query(request) or self.get_response(request)
        finally:
            unbind_request(bound)
        return self._after(request, response, started)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        started = self._before(request)
        probe = _probe_view(request)
        if probe is not None:
            if request.path_info == "/v1/health":  # liveness: no I/O, answered on the loop
                response = probe(request)
            else:  # readiness and metrics do I/O: in Django's thread, as a sync view runs
                response = await sync_to_async(probe)(request)
            return self._after(request, _with_security_headers(response), started)
        bound = bind_request(request)
        try:
            response = _bad_query(request) or await self.get_response(request)
        finally:
            unbind_request(bound)
        return self._after(request, response, started)

    def process_exception(self, request: HttpRequest, exception: Exception):
        """A dependency down (database, Redis) is a 503 ``unavailable`` on every route. DRF's
        views map it in their exception handler; for the others (the async chat and
        OpenAI-compatible views) Django's handler500 runs in another thread, where the
        exception is no longer at hand, and answered 500."""
        down = unavailable_message(exception)
        if not down:
            return None
        response = error_response(503, down, "unavailable")
        response["Retry-After"] = "5"
        return response

    @staticmethod
    def _before(request: HttpRequest) -> float:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        return time.perf_counter()

    @staticmethod
    def _after(
        request: HttpRequest, response: HttpResponseBase, started: float
    ) -> HttpResponseBase:
        if (
            request.path.startswith("/v1/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
            and not getattr(response, "streaming", False)
        ):
            code = response.status_code
            new = error_response(
                code, _DJANGO_MESSAGES.get(code, "The request failed."), TYPES_BY_STATUS.get(code)
            )
            for header in ("Allow", "Retry-After"):
                if header in response:
                    new[header] = response[header]
            response = new
        origin = request.headers.get("Origin")
        if (
            response.status_code == 503
            and origin
            and request.path.startswith("/v1/")
            and not response.has_header("Access-Control-Allow-Origin")
        ):
            # A dependency is down (every /v1/ 503 is `unavailable`), so no key's allowed
            # origins could be checked: a browser may still read that the service is down
            # (the widget said the site was not allowed to use the chatbot).
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Expose-Headers"] = "retry-after, x-request-id"
            patch_vary_headers(response, ("Origin",))
        if request.path.startswith("/v1/"):
            response.headers.setdefault("Cache-Control", API_CACHE_CONTROL)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        tenant = getattr(request, "tenant", None)
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request.request_id,  # type: ignore[attr-defined]
                "tenant": getattr(tenant, "slug", None),
                "status": response.status_code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                "method": request.method,
                "path": request.path,
            },
        )
        return response
