"""The one place that turns request headers into the caller's AuthContext.

Used by the DRF authentication classes (API key and JWT), by async views and by the WebSocket
consumer, so every entry point resolves the tenant, permissions and restrictions the same way.

- ``authenticate(headers) -> AuthContext | None``: None when the headers carry no credential;
  raises ``chatbot_project.errors.APIError`` (401 ``authentication_failed``, or 403
  ``permission_denied`` for a browser key used from an origin it does not allow) when they carry
  a bad one. Use it where the reason matters (``error_response`` from its ``.status_code``,
  ``.type`` and ``.detail``).
- ``resolve_context(headers) -> AuthContext | None``: the same, but any failure is None.
- ``context_still_valid(context) -> bool``: re-checks the credential without the cache, for
  open streams and sockets (revocation and tenant suspension must end them within seconds).

Both are synchronous and cheap: async callers use ``sync_to_async(resolve_context)(headers)``.
``headers`` is any mapping of header names to values (Django's ``request.headers``, a plain dict,
or the decoded ASGI header list turned into a dict); names are matched case-insensitively.
An API key may also be passed as ``{"X-API-Key": key}`` by callers that found it elsewhere
(the WebSocket's ``?key=`` or ``bearer.<key>`` subprotocol).

API key lookups are cached in this process for ``API_KEY_CACHE_SECONDS`` (default 2 s), so a
revoked or changed key stops working everywhere within that time (and at once in the process
that revoked it). After that an entry is not rebuilt (three queries) but confirmed: the
fingerprint of the rows it was built from (the key, its tenant, its bots and scopes) is re-read
in one small query, or rides the request's own round trip (``KeyCheck``; the retrieval fast
lane), and the entry is used again only if nothing changed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings

from chatbot_project.errors import APIError
from tenants.context import ROLE_PERMISSIONS, AuthContext

INVALID_KEY = "The API key is invalid, revoked or expired; create a new one with /v1/api-keys."
INVALID_TOKEN = "The access token is invalid or expired; obtain a new one at /v1/auth/token."  # noqa: S105
TWO_CREDENTIALS = (
    "The request carries two different credentials (X-API-Key and an Authorization Bearer "
    "value); send one of them."
)
WWW_AUTHENTICATE = 'Bearer realm="api"'


class _Headers:
    """Case-insensitive read-only view over any header mapping."""

    def __init__(self, headers: Mapping[str, Any] | None) -> None:
        self._data = {str(k).lower().replace("_", "-"): v for k, v in (headers or {}).items()}

    def get(self, name: str, default: str = "") -> str:
        value = self._data.get(name.lower(), default)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return value if value is not None else default


def auth_failed(message: str) -> APIError:
    return APIError(
        message,
        type="authentication_failed",
        status_code=401,
        headers={"WWW-Authenticate": WWW_AUTHENTICATE},
    )


# --------------------------------------------------------------------------- API key cache
# HMAC of key -> (confirmed at, context, fingerprint of the rows it was built from)
_cache: dict[str, tuple[float, AuthContext, str | None]] = {}
_cache_lock = threading.Lock()
# An entry older than API_KEY_CACHE_SECONDS but younger than this is confirmed (its fingerprint
# re-read: one small query, or none when it rides the request's own round trip) rather than
# rebuilt (three queries); older ones are rebuilt.
CONFIRMABLE_SECONDS = 600.0
_MAX_ENTRIES = 10_000


def _cache_seconds() -> float:
    return float(getattr(settings, "API_KEY_CACHE_SECONDS", 2.0))


def _usable(digest: str) -> tuple[float, AuthContext, str | None] | None:
    """The cache entry for this key digest if its key is still active (expiry since caching)."""
    hit = _cache.get(digest)
    if hit is None or hit[1].api_key is None or not hit[1].api_key.is_active:
        return None
    return hit


def _fresh_hit(digest: str, now: float) -> AuthContext | None:
    """The cached context for this key digest if cached within the TTL and still active."""
    hit = _usable(digest)
    if hit is None or now - hit[0] >= _cache_seconds():
        return None
    return hit[1]


class KeyCheck:
    """An aged cache entry in use while it is confirmed: the fingerprint of its rows
    (``apikeys.authentication.fingerprint_statement``) is re-read, riding the caller's next
    round trip inside ``riding()`` (or alone), and must be the one cached. ``confirmed()``
    then renews the entry (False: it is dropped, and the caller must not use what it did with
    the context: it authenticates afresh)."""

    __slots__ = ("context", "digest", "fingerprint", "rider", "started")

    def __init__(self, digest: str, context: AuthContext, fingerprint: str, now: float) -> None:
        self.digest, self.context, self.fingerprint, self.started = (
            digest,
            context,
            fingerprint,
            now,
        )
        self.rider: Any = None

    def _statement(self) -> tuple[str, list[Any]]:
        from apikeys.authentication import fingerprint_statement

        return fingerprint_statement(self.context.api_key.id)

    @contextlib.contextmanager
    def riding(self) -> Iterator[KeyCheck]:
        from chatbot_project.pgpipe import riding

        with riding(self._statement()) as rider:
            self.rider = rider
            yield self

    def confirmed(self) -> bool:
        from apikeys.authentication import touch_last_used
        from chatbot_project.pgpipe import run_on_django_connection

        rows = self.rider.rows if self.rider is not None else None
        if rows is None:  # nothing went to the database in the block
            rows = run_on_django_connection([self._statement()])[0]
        ok = bool(rows) and rows[0][0] == self.fingerprint
        with _cache_lock:
            current = _cache.get(self.digest)
            if current is not None and current[1] is self.context:
                if ok:  # confirmed as of when the check began
                    _cache[self.digest] = (max(current[0], self.started), *current[1:])
                else:
                    _cache.pop(self.digest, None)
        if ok:
            touch_last_used(self.context.api_key)
        return ok


def _check_for(digest: str, now: float) -> KeyCheck | None:
    hit = _usable(digest)
    if hit is None or hit[2] is None or now - hit[0] >= CONFIRMABLE_SECONDS:
        return None
    return KeyCheck(digest, hit[1], hit[2], now)


def _cached_key_context(raw: str) -> AuthContext | None:
    from apikeys import keys
    from apikeys.authentication import context_for_key

    digest = keys.hash_key(raw)
    now = time.monotonic()
    context = _fresh_hit(digest, now)
    if context is not None:
        return context
    check = _check_for(digest, now)
    if check is not None and check.confirmed():
        return check.context
    context = context_for_key(raw)
    ttl = _cache_seconds()
    with _cache_lock:
        if context is None:
            _cache.pop(digest, None)
        elif ttl > 0:
            if len(_cache) > _MAX_ENTRIES:  # bounded: drop aged entries, then everything
                keep = max(ttl, CONFIRMABLE_SECONDS)
                for k in [k for k, (at, *_) in _cache.items() if now - at >= keep]:
                    _cache.pop(k, None)
                if len(_cache) > _MAX_ENTRIES:
                    _cache.clear()
            fingerprint = getattr(context.api_key, "auth_fingerprint", None)
            _cache[digest] = (now, context, fingerprint)
    return context


def invalidate_key_cache(*, key_id: Any = None, tenant_id: Any = None) -> None:
    """Forget cached contexts for one key, one tenant's keys, or all (no arguments)."""
    with _cache_lock:
        if key_id is None and tenant_id is None:
            _cache.clear()
            return
        for digest, (_, ctx, _fp) in list(_cache.items()):
            if (key_id is not None and ctx.api_key is not None and ctx.api_key.id == key_id) or (
                tenant_id is not None and ctx.tenant.id == tenant_id
            ):
                _cache.pop(digest, None)


# --------------------------------------------------------------------------- resolution
def _key_from(headers: _Headers) -> str | None:
    """The API key of these headers: ``X-API-Key``, else a ``Bearer`` key. Both, naming two
    different credentials (another key, a staff token), is a 401: which one acts was a silent
    choice (``X-API-Key`` won), so a request could run under a credential its sender did not
    mean. ``X-API-Key`` beside another scheme (``Basic`` for a proxy) is fine."""
    explicit = headers.get("x-api-key").strip()
    scheme, _, value = headers.get("authorization").partition(" ")
    value = value.strip()
    bearer = value if scheme.lower() == "bearer" and value else ""
    if explicit:
        if bearer and bearer != explicit:
            raise auth_failed(TWO_CREDENTIALS)
        return explicit
    if bearer.startswith(settings.API_KEY_PREFIX):
        return bearer
    return None


def _jwt_from(headers: _Headers) -> str | None:
    scheme, _, value = headers.get("authorization").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value and not value.startswith(settings.API_KEY_PREFIX):
        return value
    return None


def _context_for_jwt(raw: str, wanted_tenant: str) -> AuthContext:
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

    from tenants.jwt_sessions import PASSWORD_CLAIM, SID_CLAIM, session_ended, stamp_matches
    from tenants.models import Membership

    backend = JWTAuthentication()
    try:
        validated = backend.get_validated_token(raw.encode())
        user = backend.get_user(validated)
    except (InvalidToken, TokenError, AuthenticationFailed, ValueError, TypeError):
        # (ValueError: a signed token whose user id is not one, e.g. "abc": a 500 before)
        raise auth_failed(INVALID_TOKEN) from None
    session_id = validated.get(SID_CLAIM) or ""
    if session_ended(session_id):
        raise auth_failed("This sign-in session was logged out; sign in again.")
    stamp = validated.get(PASSWORD_CLAIM)
    if not stamp_matches(stamp, user.password):
        raise auth_failed("The password was changed since this sign-in; sign in again.")
    memberships = list(
        Membership.objects.select_related("tenant").filter(user=user, tenant__is_active=True)
    )
    if wanted_tenant:
        memberships = [m for m in memberships if m.tenant.slug == wanted_tenant]
        if not memberships:
            raise auth_failed(f"You have no membership in tenant {wanted_tenant!r}.")
    if not memberships:
        raise auth_failed("This user belongs to no active tenant.")
    if len(memberships) > 1:
        raise auth_failed(
            "This user belongs to several tenants; send X-Tenant: <slug> to pick one."
        )
    membership = memberships[0]
    return AuthContext(
        tenant=membership.tenant,
        permissions=ROLE_PERMISSIONS[membership.role],
        user=user,
        role=membership.role,
        rate_limit=membership.tenant.default_rate_limit,
        session_id=session_id,
        password_stamp=str(stamp) if stamp is not None else None,
    )


def _own_tenant(context: AuthContext, wanted: str) -> AuthContext:
    """A key acts in its own tenant only: ``X-Tenant`` naming another (existing or not) is a
    401 as for a staff token without a membership there (``_context_for_jwt``), not served
    silently for the key's tenant."""
    if wanted and wanted != context.tenant.slug:
        raise auth_failed(
            f"This API key does not belong to tenant {wanted!r}; a key acts in its own tenant "
            "only: leave X-Tenant out."
        )
    return context


def authenticate_key(raw: str, *, origin: str = "", tenant: str = "") -> AuthContext:
    """Context for a raw API key (raises 401 when not live or ``tenant``, the X-Tenant header,
    names another tenant; 403 when the origin is refused)."""
    from apikeys.cors import check_origin

    context = _cached_key_context(raw)
    if context is None:
        raise auth_failed(INVALID_KEY)
    check_origin(_own_tenant(context, tenant), origin)
    return context


def authenticate(headers: Mapping[str, Any] | None) -> AuthContext | None:
    """AuthContext for these headers; None without credentials; APIError for bad ones."""
    h = _Headers(headers)
    raw_key = _key_from(h)
    if raw_key is not None:
        return authenticate_key(raw_key, origin=h.get("origin"), tenant=h.get("x-tenant").strip())
    token = _jwt_from(h)
    if token is not None:
        return _context_for_jwt(token, h.get("x-tenant").strip())
    return None


def authenticate_cached(headers: Mapping[str, Any] | None) -> AuthContext | None:
    """``authenticate`` when the answer needs no I/O (an API key this process verified within
    ``API_KEY_CACHE_SECONDS``), else None: async callers skip their thread hop on a hit."""
    found = authenticate_cached_or_aged(headers, aged=False)
    return found[0] if found is not None else None


def authenticate_cached_or_aged(
    headers: Mapping[str, Any] | None, *, aged: bool = True
) -> tuple[AuthContext, KeyCheck | None] | None:
    """Like ``authenticate_cached``, and with ``aged`` also an entry past its TTL that can be
    confirmed: ``(context, check)``, where the caller must run its database work inside
    ``check.riding()`` and use the result only if ``check.confirmed()`` (read-only work)."""
    h = _Headers(headers)
    raw_key = _key_from(h)
    if raw_key is None:
        return None
    from apikeys import keys
    from apikeys.cors import check_origin

    digest = keys.hash_key(raw_key)
    now = time.monotonic()
    context = _fresh_hit(digest, now)
    check = None
    if context is None and aged:
        check = _check_for(digest, now)
        context = check.context if check is not None else None
    if context is None:
        return None
    check_origin(_own_tenant(context, h.get("x-tenant").strip()), h.get("origin"))
    return context, check


def resolve_context(headers: Mapping[str, Any] | None) -> AuthContext | None:
    """AuthContext for these headers, or None when they carry no valid credential."""
    try:
        return authenticate(headers)
    except APIError:
        return None


def context_still_valid(context: AuthContext) -> bool:
    """Whether the credential behind ``context`` still works right now (one small query, no
    cache): for long-lived streams and sockets, which should check every second or two and end
    with ``authentication_failed`` once this is False (revoked/expired key, suspended tenant,
    removed membership, a staff user's logout or password change)."""
    from django.db.models import Q
    from django.utils import timezone

    from tenants.models import Membership

    if context.api_key is not None:
        from apikeys.models import APIKey

        alive = APIKey.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
            pk=context.api_key.pk,
            revoked_at__isnull=True,
            tenant__is_active=True,
        ).exists()
    elif context.user is not None:
        from tenants.jwt_sessions import session_ended, stamp_matches

        password = (
            Membership.objects.filter(
                user_id=context.user.pk,
                tenant_id=context.tenant.id,
                tenant__is_active=True,
                user__is_active=True,
            )
            .values_list("user__password", flat=True)
            .first()
        )
        alive = (
            not session_ended(context.session_id)
            and password is not None
            and stamp_matches(context.password_stamp, password)
        )
    else:
        return False
    if not alive and context.api_key is not None:
        invalidate_key_cache(key_id=context.api_key.pk)
    return alive
