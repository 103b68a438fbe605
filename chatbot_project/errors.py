"""One error body everywhere: {"error": {"type", "message", "details"?}} (API.md)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

log = logging.getLogger("chatbot.errors")

TYPES_BY_STATUS = {
    400: "invalid_request",
    401: "authentication_failed",
    403: "permission_denied",
    404: "not_found",
    405: "invalid_request",
    406: "invalid_request",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    502: "upstream_error",
    503: "unavailable",
}

# The status each error type is answered with (API.md's list); 405/406 share invalid_request.
STATUS_BY_TYPE = {
    type_: code for code, type_ in TYPES_BY_STATUS.items() if code not in (405, 406)
} | {"internal_error": 500}

NOT_FOUND_MESSAGE = "No such object, or it is not visible to this credential."


class APIError(exceptions.APIException):
    """Raise from services/views with an explicit type, status and sentence."""

    def __init__(
        self,
        message: str,
        *,
        type: str = "invalid_request",
        status_code: int = 400,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=message)
        self.status_code = status_code
        self.type = type
        self.details = details
        self.headers = headers or {}


class NotFound(APIError):
    def __init__(self, message: str = NOT_FOUND_MESSAGE) -> None:
        super().__init__(message, type="not_found", status_code=404)


class Conflict(APIError):
    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, type="conflict", status_code=409, details=details)


class Unavailable(APIError):
    def __init__(self, message: str) -> None:
        super().__init__(message, type="unavailable", status_code=503)


def error_body(type_: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"type": type_, "message": message}
    if details:
        err["details"] = details
    return {"error": err}


def error_response(
    status_code: int, message: str, type_: str | None = None, details: dict[str, Any] | None = None
) -> JsonResponse:
    return JsonResponse(
        error_body(type_ or TYPES_BY_STATUS.get(status_code, "internal_error"), message, details),
        status=status_code,
    )


def _flatten(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _flatten(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
        return "Invalid request."
    if isinstance(detail, list) and detail:
        return _flatten(detail[0])
    return str(detail)


def unavailable_message(exc: BaseException | None) -> str | None:
    """A sentence for infrastructure failures that deserve 503 (not 500), else None."""
    if exc is None:
        return None
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError  # Celery's publish
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, OperationalError | InterfaceError):
        return "The database is unavailable right now; retry in a few seconds."
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | BrokerError):
        return "Redis (rate limits, queue, cache) is unavailable right now; retry in a few seconds."
    return None


def too_large_message(exc: BaseException | None) -> str | None:
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return (
            f"The request body is larger than the {limit:,}-byte limit for JSON and form data; "
            "send less (upload files as multipart `file`)."
        )
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    big = too_large_message(exc)
    if big:
        return Response(error_body("payload_too_large", big), status=413)
    down = unavailable_message(exc)
    if down:
        log.warning("dependency unavailable: %s", exc)
        return Response(error_body("unavailable", down), status=503, headers={"Retry-After": "5"})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)

    if isinstance(exc, APIError):
        body = error_body(exc.type, str(exc.detail), exc.details)
        return Response(body, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, exceptions.APIException):
        code = exc.status_code
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(max(1, int(exc.wait)))  # type: ignore[attr-defined]
        details = None
        if isinstance(exc, exceptions.ValidationError):
            message = _flatten(exc.detail)
            details = {"fields": exc.detail} if isinstance(exc.detail, dict) else None
        elif isinstance(exc, exceptions.NotFound):
            message = NOT_FOUND_MESSAGE
        elif isinstance(exc, exceptions.NotAuthenticated):
            code = 401
            message = "Authentication required: send an API key (Authorization: Bearer <key>)."
        elif isinstance(exc, exceptions.UnsupportedMediaType):
            message = _media_type_message(context.get("request"))
        elif isinstance(exc, exceptions.MethodNotAllowed):
            message = _method_message(context.get("request"), context.get("view"))
        else:
            detail = exc.detail
            if isinstance(detail, dict) and "detail" in detail:  # simplejwt: {"detail", "code"}
                detail = detail["detail"]
            message = _flatten(detail) if isinstance(detail, dict | list) else str(detail)
        if code == 401 and "WWW-Authenticate" not in headers:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return Response(
            error_body(TYPES_BY_STATUS.get(code, "invalid_request"), message, details),
            status=code,
            headers=headers,
        )
    log.exception("unhandled error in %s", context.get("view"))
    return Response(
        error_body("internal_error", "Something went wrong on our side; it has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _media_type_message(request: Any) -> str:
    """DRF said 'Unsupported media type "text/plain" in request.': which ones are taken here."""
    sent = (getattr(request, "content_type", "") or "").split(";")[0].strip()
    taken = list(dict.fromkeys(p.media_type for p in getattr(request, "parsers", None) or ()))
    given = (
        f'Content-Type "{sent}" is not accepted here' if sent else "The body has no Content-Type"
    )
    if taken == ["application/json"] or not taken:
        return f"{given}; send the body as JSON (Content-Type: application/json)."
    return f"{given}; send the body as one of: {', '.join(taken)}."


_IMPLIED = ("HEAD", "OPTIONS")  # in every Allow header beside GET; not worth a word


def _method_message(request: Any, view: Any) -> str:
    """DRF said 'Method "PUT" not allowed.': and which ones are."""
    method = getattr(request, "method", "") or "This method"
    path = getattr(request, "path", "") or "this route"
    allowed = [m for m in getattr(view, "allowed_methods", None) or () if m not in _IMPLIED]
    if not allowed:
        return f"{method} is not allowed on {path}."
    listed = (
        " or ".join(allowed) if len(allowed) < 3 else f"{', '.join(allowed[:-1])} or {allowed[-1]}"
    )
    return f"{method} is not allowed on {path}; use {listed}."


def handler404(request, exception=None):
    path = getattr(request, "path_info", "") or ""
    if len(path) > 1 and path.endswith("/") and _routes(path.rstrip("/")):
        # `/v1/bots/` (a client that adds slashes): the route is there without it.
        return error_response(
            404, f"No route matches this path; the route is {path.rstrip('/')}, without the "
            "trailing slash.",
        )  # fmt: skip
    not_id = _not_an_id(path.rstrip("/"))
    if not_id:
        return error_response(404, not_id)
    return error_response(404, "No route matches this path. See /docs for the API.")


_SOME_ID = "00000000-0000-0000-0000-000000000000"


def _not_an_id(path: str) -> str | None:
    """`/v1/bots/support` (a slug where the route takes an id): say so, and where ids are
    listed, instead of "No route matches this path"."""
    parts = path.split("/")
    if parts[1:2] != ["v1"]:
        return None
    for i, part in enumerate(parts):
        if i < 3 or not part:  # "", "v1", the collection's name
            continue
        if _routes("/".join([*parts[:i], _SOME_ID, *parts[i + 1 :]])):
            listing = "/".join(parts[:i])
            where = f"; GET {listing} lists them" if _routes(listing) else ""
            shown = part if len(part) <= 64 else part[:64] + "..."
            return f"No route matches this path: {shown!r} is not an id (routes take UUIDs{where})."
    return None


def _routes(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def handler500(request):
    # Called inside Django's `except` block, so the exception is still at hand.
    import sys

    down = unavailable_message(sys.exc_info()[1])
    if down:
        response = error_response(503, down, "unavailable")
        response["Retry-After"] = "5"
        return response
    return error_response(500, "Something went wrong on our side; it has been logged.")


def handler400(request, exception=None):
    big = too_large_message(exception)
    if big:
        return error_response(413, big, "payload_too_large")
    return error_response(400, "The request could not be understood.")


def handler403(request, exception=None):
    return error_response(403, "You do not have permission to perform this action.")
