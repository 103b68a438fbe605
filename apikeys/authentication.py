"""DRF authentication for API keys (``Authorization: Bearer cb_...`` or ``X-API-Key``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models.expressions import RawSQL
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication

from apikeys import keys
from apikeys.models import APIKey
from tenants.context import AuthContext, Principal, attach

LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID = "The API key is invalid, revoked or expired."

# One value that changes whenever anything an AuthContext is built from changes: the key's row
# (but its last_used_at), its tenant's row, its bots and its scopes. The in-process key cache
# (tenants.auth) re-reads it to confirm an aged entry in one small query instead of rebuilding
# the context (three queries), or rides it along the request's own round trip.
_FINGERPRINT = (
    "SELECT md5(concat_ws('|', (to_jsonb(k) - 'last_used_at')::text, to_jsonb(t)::text, "
    "ARRAY(SELECT b.bot_id::text FROM apikeys_apikey_bots b WHERE b.apikey_id = k.id "
    "ORDER BY 1)::text, "
    "ARRAY(SELECT s.scope_id::text FROM apikeys_apikey_scopes s WHERE s.apikey_id = k.id "
    "ORDER BY 1)::text)) "
    "FROM apikeys_apikey k JOIN tenants_tenant t ON t.id = k.tenant_id WHERE k.id = {key}"
)


def fingerprint_statement(key_id: Any) -> tuple[str, list[Any]]:
    """The statement whose one row's one column is the key's fingerprint (no row: deleted)."""
    return _FINGERPRINT.format(key="%s"), [key_id]


def _fingerprint_column() -> RawSQL:
    """The fingerprint as a column of the APIKey query (read with the key's own row)."""
    # Constant SQL: its only input is the row's own id column.
    return RawSQL(f"({_FINGERPRINT.format(key='apikeys_apikey.id')})", [])  # noqa: S611


def touch_last_used(key: APIKey) -> None:
    """Record use, at most one write per key per minute (not one per request)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        APIKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def extract_key(headers) -> str | None:
    """The raw key from the headers, or None when the request carries no API key (a 401 when
    they carry two different credentials: ``tenants.auth._key_from``)."""
    from tenants.auth import _Headers, _key_from

    return _key_from(_Headers(headers))


def context_for_key(raw: str) -> AuthContext | None:
    """Resolve a raw key to an AuthContext, or None when it is not a live key."""
    if not keys.looks_valid(raw):
        return None
    try:
        key = (
            APIKey.objects.select_related("tenant")
            .prefetch_related("bots", "scopes")
            # read before the bots and scopes: never newer than what the context holds
            .annotate(auth_fingerprint=_fingerprint_column())
            .get(prefix=keys.public_prefix(raw))
        )
    except APIKey.DoesNotExist:
        return None
    if not keys.matches(raw, key.key_hash):
        if not keys.matches_fallback(raw, key.key_hash):
            return None
        # Hashed under a SECRET_KEY being rotated out: store it under the current one.
        fresh = keys.hash_key(raw)
        APIKey.objects.filter(pk=key.pk, key_hash=key.key_hash).update(key_hash=fresh)
        key.key_hash = fresh
    if not key.is_active or not key.tenant.is_active:
        return None
    touch_last_used(key)
    # A limited key whose bots (scopes) were all deleted is limited to none, not to every one.
    bot_ids = frozenset(b.id for b in key.bots.all())
    scope_ids = frozenset(s.id for s in key.scopes.all())
    return AuthContext(
        tenant=key.tenant,
        permissions=frozenset(key.permissions),
        api_key=key,
        allowed_bot_ids=bot_ids if key.limited_to_bots or bot_ids else None,
        allowed_scope_ids=scope_ids if key.limited_to_scopes or scope_ids else None,
        allowed_origins=tuple(key.allowed_origins),
        rate_limit=key.rate_limit or key.tenant.default_rate_limit,
    )


class APIKeyAuthentication(BaseAuthentication):
    """Resolves through ``tenants.auth`` (cache, origin check) like every other entry point."""

    def authenticate(self, request):
        from tenants.auth import authenticate_key

        raw = extract_key(request.headers)
        if raw is None:
            return None
        context = authenticate_key(
            raw,
            origin=request.headers.get("Origin", ""),
            tenant=request.headers.get("X-Tenant", "").strip(),
        )
        attach(request, context)
        return Principal(context), context

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
