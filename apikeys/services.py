from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from apikeys import keys
from apikeys.models import PERMISSIONS, APIKey
from audit.services import audit_record
from chatbot_project.errors import APIError, Conflict
from tenants.auth import invalidate_key_cache
from tenants.context import AuthContext
from tenants.models import Tenant
from tenants.quotas import enforce_quota
from tenants.views import invalid


@transaction.atomic
def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    permissions: Iterable[str] = ("chat", "read"),
    bots: Iterable = (),
    scopes: Iterable = (),
    rate_limit: str = "",
    allowed_origins: Iterable[str] = (),
    expires_at: datetime | None = None,
    created_by: Any = None,
    rotated_from: APIKey | None = None,
) -> tuple[APIKey, str]:
    """Create a key; returns (row, raw key). The raw key is never stored or logged. A key
    replacing ``rotated_from`` is not held to ``max_api_keys``: it takes the old one's place
    (which stops working within ``MAX_PREVIOUS_VALID_FOR``), and a leaked key must be rotatable
    at the quota."""
    perms = sorted(set(permissions))
    unknown = set(perms) - set(PERMISSIONS)
    if unknown:
        raise APIError(f"Unknown permissions {sorted(unknown)}; use any of {list(PERMISSIONS)}.")
    if rate_limit:
        from apikeys.ratelimit import parse_limit

        try:
            parse_limit(rate_limit)
        except ValueError as exc:
            raise APIError(f"rate_limit: {exc}") from None
    bots, scopes = list(bots), list(scopes)
    for obj in [*bots, *scopes]:
        assert obj.tenant_id == tenant.id, "cross-tenant object passed to api_key_create"
    if rotated_from is None:
        enforce_quota(tenant=tenant, quota="max_api_keys")
    raw = keys.generate()
    key = APIKey(
        tenant=tenant,
        name=name,
        prefix=keys.public_prefix(raw),
        key_hash=keys.hash_key(raw),
        permissions=perms,
        rate_limit=rate_limit,
        allowed_origins=list(allowed_origins),
        expires_at=expires_at,
        created_by=created_by,
        rotated_from=rotated_from,
        limited_to_bots=bool(bots),
        limited_to_scopes=bool(scopes),
    )
    key.full_clean(exclude=["bots", "scopes"])
    key.save()
    if bots:
        key.bots.set(bots)
    if scopes:
        key.scopes.set(scopes)
    audit_record(
        tenant=tenant, action="api_key.create", obj=key,
        changes={
            "name": name, "prefix": key.prefix, "permissions": perms,
            "bots": [str(b.pk) for b in bots], "scopes": [str(s.pk) for s in scopes],
            "rate_limit": rate_limit, "allowed_origins": key.allowed_origins,
            "expires_at": expires_at,
        },
    )  # fmt: skip
    return key, raw


@transaction.atomic
def api_key_revoke(*, tenant: Tenant, key: APIKey) -> APIKey:
    assert key.tenant_id == tenant.id
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
        audit_record(tenant=tenant, action="api_key.revoke", obj=key)
    # This process forgets it now (and again at commit, in case a request re-cached it in
    # between); other processes within API_KEY_CACHE_SECONDS (tenants.auth).
    invalidate_key_cache(key_id=key.id)
    transaction.on_commit(lambda: invalidate_key_cache(key_id=key.id))
    return key


def api_key_revoke_for(*, context: AuthContext, key: APIKey) -> APIKey:
    """Revoke ``key`` on behalf of ``context``. A credential restricted to some bots (or scopes)
    revokes only keys restricted within them, and never one with permissions it lacks: else a
    key limited to one bot could revoke the tenant's unrestricted keys."""
    _within_credential(context, key, "revoke")
    return api_key_revoke(tenant=context.tenant, key=key)


def _within_credential(context: AuthContext, key: APIKey, verb: str) -> None:
    beyond = sorted(set(key.permissions or ()) - set(context.permissions))
    for field, limited, allowed in (
        ("bots", key.limited_to_bots, context.allowed_bot_ids),
        ("scopes", key.limited_to_scopes, context.allowed_scope_ids),
    ):
        if allowed is None:
            continue
        held = {o.id for o in getattr(key, field).all()}
        if not limited or not held <= set(allowed):
            beyond.append(field)
    if beyond:
        raise APIError(
            "Your credential is more restricted than that key (" + ", ".join(beyond) + "); "
            f"{verb} it with an unrestricted admin key or as a signed-in admin.",
            type="permission_denied",
            status_code=403,
        )


@transaction.atomic
def api_key_create_for(*, context: AuthContext, data: dict[str, Any]) -> tuple[APIKey, str]:
    """Create a key from API input on behalf of ``context``: bots and scopes (slugs or ids)
    resolved in its tenant only, and never more power than the caller holds (permissions, bot
    and scope restrictions). The bots and scopes named stay locked until the key is stored,
    so one being deleted meanwhile is a 400 (unknown), not a foreign-key violation (500) at
    commit."""
    from bots.selectors import bots_by_refs, scopes_by_refs

    tenant = context.tenant
    permissions = data.get("permissions", ["chat", "read"])
    beyond = sorted(set(permissions) - set(context.permissions))
    if beyond:
        raise APIError(
            f"You cannot grant permissions you do not hold: {', '.join(beyond)}.",
            type="permission_denied",
            status_code=403,
        )
    _within_expiry(context, data.get("expires_at"))
    bots = bots_by_refs(tenant=tenant, refs=data.get("bots") or [], lock=True)
    scopes = scopes_by_refs(tenant=tenant, refs=data.get("scopes") or [], lock=True)
    for field, chosen, allowed in (
        ("bots", bots, context.allowed_bot_ids),
        ("scopes", scopes, context.allowed_scope_ids),
    ):
        if allowed is not None and (not chosen or any(o.id not in allowed for o in chosen)):
            raise APIError(
                f"Your key is restricted to some {field}; a key you create must list {field} "
                "within that restriction.",
                type="permission_denied",
                status_code=403,
            )
    user = context.user if getattr(context.user, "pk", None) else None
    try:
        return api_key_create(
            tenant=tenant,
            name=data["name"],
            permissions=permissions,
            bots=bots,
            scopes=scopes,
            rate_limit=data.get("rate_limit", ""),
            allowed_origins=data.get("allowed_origins", []),
            expires_at=data.get("expires_at"),
            created_by=user,
        )
    except DjangoValidationError as exc:
        raise invalid(exc) from None


def _within_expiry(context: AuthContext, expires_at: datetime | None) -> None:
    """A key that expires creates keys that expire by then: else a key given out for a day
    made itself a permanent one."""
    until = getattr(context.api_key, "expires_at", None)
    if until is not None and (expires_at is None or expires_at > until):
        shown = until.isoformat().replace("+00:00", "Z")
        raise APIError(
            f"Your key expires at {shown}; a key you create must expire by then: send "
            "`expires_at` no later than that.",
            type="permission_denied",
            status_code=403,
        )


# Long enough to roll the new key out everywhere the old one is configured; a leaked key is
# rotated with 0 (revoked at once).
DEFAULT_PREVIOUS_VALID_FOR = timedelta(hours=1)
MAX_PREVIOUS_VALID_FOR = timedelta(days=7)


@transaction.atomic
def api_key_rotate(
    *,
    tenant: Tenant,
    key: APIKey,
    previous_valid_for: timedelta | int = DEFAULT_PREVIOUS_VALID_FOR,
    created_by: Any = None,
) -> tuple[APIKey, str, APIKey]:
    """Replace ``key`` with a new key of the same name and settings (permissions, bots, scopes,
    rate limit, origins, expiry), and let the old one work ``previous_valid_for`` more (0: it
    is revoked now; an expiry already sooner is kept). Returns (new row, raw key, old row)."""
    assert key.tenant_id == tenant.id
    if not isinstance(previous_valid_for, timedelta):
        previous_valid_for = timedelta(seconds=previous_valid_for)
    if not timedelta(0) <= previous_valid_for <= MAX_PREVIOUS_VALID_FOR:
        raise APIError(
            "previous_valid_for must be between 0 (the old key stops at once) and "
            f"{int(MAX_PREVIOUS_VALID_FOR.total_seconds())} seconds (7 days)."
        )
    old = APIKey.objects.select_for_update().get(pk=key.pk)  # one rotation at a time
    if not old.is_active:
        state = "revoked" if old.revoked_at is not None else "expired"
        raise Conflict(
            f"That key is {state}; only a working key can be rotated (create a new key instead)."
        )
    successor = APIKey.objects.filter(rotated_from=old).order_by("-created_at").first()
    if successor is not None and successor.is_active:
        # A retried or double-clicked rotation: a second successor would inherit the grace
        # period's end as its own expiry and leave two new keys for one old one.
        raise Conflict(
            f"That key was already rotated to {successor.prefix}... (id {successor.id}) and stops "
            "working at the end of its grace period: rotate the new key instead, or revoke this "
            "one to stop it now."
        )
    # A successor revoked before the old key's grace ended holds the old key's own expiry.
    own_expiry = successor.expires_at if successor is not None else old.expires_at
    now = timezone.now()
    until = now + previous_valid_for
    if old.expires_at is None or old.expires_at > until:
        old.expires_at = until
    fields = ["expires_at", "updated_at"]
    if not previous_valid_for:
        old.revoked_at = now
        fields.append("revoked_at")
    new, raw = api_key_create(
        tenant=tenant,
        name=old.name,
        permissions=old.permissions,
        bots=list(old.bots.all()),
        scopes=list(old.scopes.all()),
        rate_limit=old.rate_limit,
        allowed_origins=old.allowed_origins,
        expires_at=own_expiry,  # the old key's own expiry, not its grace period's end
        created_by=created_by,
        rotated_from=old,
    )
    if old.limited_to_bots or old.limited_to_scopes:  # kept when their last one was deleted
        new.limited_to_bots, new.limited_to_scopes = old.limited_to_bots, old.limited_to_scopes
        new.save(update_fields=["limited_to_bots", "limited_to_scopes"])
    old.save(update_fields=fields)
    audit_record(
        tenant=tenant, action="api_key.rotate", obj=old,
        changes={
            "new_key_id": str(new.id), "new_prefix": new.prefix,
            "old_expires_at": old.expires_at, "old_revoked_at": old.revoked_at,
        },
    )  # fmt: skip
    # The old key's cached contexts hold its former expiry: forget them here now and at
    # commit; other processes re-read its row within API_KEY_CACHE_SECONDS (tenants.auth), as
    # for a revocation, and from then on refuse it at its new expiry to the second.
    invalidate_key_cache(key_id=old.id)
    transaction.on_commit(lambda: invalidate_key_cache(key_id=old.id))
    return new, raw, old


@transaction.atomic
def api_key_rotate_for(
    *, context: AuthContext, key: APIKey, previous_valid_for: timedelta | int
) -> tuple[APIKey, str, APIKey]:
    """Rotate ``key`` on behalf of ``context``: only a key it could revoke and create (its
    permissions, bots and scopes within the caller's; its expiry by the caller's)."""
    _within_credential(context, key, "rotate")
    until = getattr(context.api_key, "expires_at", None)
    if until is not None and (key.expires_at is None or key.expires_at > until):
        raise APIError(
            "Your key expires before that key (whose successor would keep its expiry); rotate "
            "it with a key that does not expire or as a signed-in admin.",
            type="permission_denied",
            status_code=403,
        )
    user = context.user if getattr(context.user, "pk", None) else None
    return api_key_rotate(
        tenant=context.tenant, key=key, previous_valid_for=previous_valid_for, created_by=user
    )
