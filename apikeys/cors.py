"""CORS for browser use of API keys (the widget), on top of django-cors-headers.

Behaviour:
- Preflight (``OPTIONS`` with ``Access-Control-Request-Method``) on any ``/v1/`` route is answered
  permissively (200, ``Access-Control-Allow-Origin: <origin>``, the allowed methods and headers from
  ``CORS_ALLOW_HEADERS``, which include the openai JS SDK's ``OPENAI_SDK_HEADERS``: its
  x-stainless-* ones and User-Agent): a preflight carries no key, so it cannot be checked.
- The real request is checked against its key: a request with an ``Origin`` header, using a key
  that has ``allowed_origins``, is refused with 403 ``permission_denied`` unless the origin is in
  that list (exact match of scheme://host[:port]; ``*`` in the list allows any origin).
- Responses to a request whose key allows its origin carry ``Access-Control-Allow-Origin: <origin>``
  (plus ``Vary: Origin`` and the exposed rate-limit headers). Keys without ``allowed_origins`` are
  not refused, but their responses carry no CORS header (browsers cannot read them) unless the
  origin is in the instance-wide ``CORS_ORIGINS`` setting. JWT users are never origin-checked.

``check_origin(context, origin)`` is what the authentication path (``tenants.auth``) calls; async
views and the WebSocket get it through ``tenants.auth.authenticate``. For CORS headers to be added
by the middleware, a view that authenticates by itself sets ``request.auth_context``.
"""

from __future__ import annotations

import re
from typing import Any

from chatbot_project.errors import APIError
from tenants.context import AuthContext

_V1 = re.compile(r"^/v1/")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_origin(value: str) -> str | None:
    """``value`` as a browser writes it in ``Origin`` (lowercase scheme and host, no default
    port: ``HTTPS://Example.com:443`` -> ``https://example.com``; an international name in
    punycode: ``https://bücher.de`` -> ``https://xn--bcher-kva.de``), or None when it is not an
    http(s) origin (a path, query, user info, wildcard or bad port)."""
    from urllib.parse import urlsplit

    value = value.strip().rstrip("/")
    if "*" in value or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    elif not host.isascii():  # browsers send an international name in its ASCII form
        import idna

        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _normalise(origin: str) -> str:
    return canonical_origin(origin) or origin.strip().rstrip("/").lower()


def origin_allowed(context: AuthContext, origin: str) -> bool:
    """Whether a browser at ``origin`` may use this credential (True when it is not restricted)."""
    if not context.allowed_origins or not origin:
        return True
    wanted = _normalise(origin)
    return any(o == "*" or _normalise(o) == wanted for o in context.allowed_origins)


def check_origin(context: AuthContext, origin: str) -> None:
    if context.api_key is not None and not origin_allowed(context, origin):
        raise APIError(
            f"This API key may not be used from the origin {origin!r}; add it to the key's "
            "allowed_origins or use a key made for that site.",
            type="permission_denied",
            status_code=403,
        )


def _is_preflight(request: Any) -> bool:
    return request.method == "OPTIONS" and "access-control-request-method" in request.headers


def cors_allowed(request: Any) -> bool:
    """django-cors-headers' hook: may this request get ``Access-Control-Allow-Origin``?"""
    if not _V1.match(getattr(request, "path_info", "") or ""):
        return False
    if _is_preflight(request):
        return True
    context: AuthContext | None = getattr(request, "auth_context", None)
    origin = request.headers.get("Origin", "")
    return bool(
        context is not None
        and context.api_key is not None
        and context.allowed_origins
        and origin
        and origin_allowed(context, origin)
    )


def _handler(sender: Any, request: Any, **kwargs: Any) -> bool:
    return cors_allowed(request)


def connect() -> None:
    """Called from the app config's ready(); idempotent through dispatch_uid."""
    from corsheaders.signals import check_request_enabled

    check_request_enabled.connect(_handler, dispatch_uid="apikeys.cors.cors_allowed")
