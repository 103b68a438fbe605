from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apikeys import keys
from apikeys.models import PERMISSIONS, APIKey
from chatbot_project.errors import APIError
from tenants.models import Tenant


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
    created_by=None,  # noqa: ANN001
) -> tuple[APIKey, str]:
    """Create a key; returns (row, raw key). The raw key is never stored or logged."""
    perms = sorted(set(permissions))
    unknown = set(perms) - set(PERMISSIONS)
    if unknown:
        raise APIError(f"Unknown permissions {sorted(unknown)}; use any of {list(PERMISSIONS)}.")
    bots, scopes = list(bots), list(scopes)
    for obj in [*bots, *scopes]:
        assert obj.tenant_id == tenant.id, "cross-tenant object passed to api_key_create"
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
    )
    key.full_clean(exclude=["bots", "scopes"])
    key.save()
    if bots:
        key.bots.set(bots)
    if scopes:
        key.scopes.set(scopes)
    return key, raw


def api_key_revoke(*, tenant: Tenant, key: APIKey) -> APIKey:
    assert key.tenant_id == tenant.id
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key
