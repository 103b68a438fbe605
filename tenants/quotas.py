"""Tenant quotas (``Tenant.quotas``): their keys, validation, the usage, and enforcement.

Each known key is a whole number of 0 or more, or null (no limit); a key left out is no limit
too. ``max_storage_mb`` caps the sum of the tenant's stored document files
(``Document.size_bytes``, in MiB); ``max_api_keys`` counts keys neither revoked nor expired.

The creation services call ``enforce_quota`` / ``enforce_document_quota`` inside the transaction
that inserts the row. They lock the tenant row first (``FOR NO KEY UPDATE``: it serialises the
tenant's quota checks and its settings updates, and does not block inserts that merely reference
the tenant), so two creations racing at the limit cannot both pass. Going over is a 409
``conflict`` (``QuotaExceeded``): the request is valid and allowed, the tenant's current state is
what refuses it, and deleting something or raising the quota resolves it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from chatbot_project.errors import Conflict
from tenants.models import Tenant

MB = 1024 * 1024
# quota key -> (singular, plural, how to make room)
COUNTED = {
    "max_bots": ("bot", "bots", "delete one"),
    "max_datasets": ("dataset", "datasets", "delete one"),
    "max_documents": ("document", "documents", "delete one"),
    "max_api_keys": ("active API key", "active API keys", "revoke one"),
}
QUOTA_KEYS = (*sorted(COUNTED), "max_storage_mb")
BAD_VALUE = "Must be a whole number of 0 or more, or null for no limit."
UNKNOWN_KEY = (
    "Unknown quota; use max_api_keys, max_bots, max_datasets, max_documents or max_storage_mb."
)


class QuotaExceeded(Conflict):
    pass


def _valid(value: Any) -> bool:
    return value is None or (type(value) is int and value >= 0)


def quota_problems(quotas: Any) -> dict[str, str]:
    """What is wrong with a quotas dict, per key (empty when nothing is)."""
    if not isinstance(quotas, dict):
        return {"quotas": "Must be a JSON object."}
    problems = {}
    for key in sorted(quotas):
        if key not in QUOTA_KEYS:
            problems[key] = UNKNOWN_KEY
        elif not _valid(quotas[key]):
            problems[key] = BAD_VALUE
    return problems


def validate_quotas(value: Any) -> Any:
    """Serializer validator: the problems as ``{key: [message]}`` under the ``quotas`` field."""
    from rest_framework import serializers

    problems = quota_problems(value)
    if problems:
        raise serializers.ValidationError({key: [msg] for key, msg in problems.items()})
    return value


def _limit(quotas: Any, key: str) -> int | None:
    """The limit set for ``key``; values stored before quotas were validated count as unset."""
    value = quotas.get(key) if isinstance(quotas, dict) else None
    return value if value is not None and _valid(value) else None


def _querysets(tenant: Tenant) -> dict[str, Any]:
    from django.db.models import Q
    from django.utils import timezone

    from apikeys.models import APIKey
    from bots.models import Bot
    from datasets.models import Dataset, Document

    live = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return {
        "max_bots": Bot.objects.for_tenant(tenant),
        "max_datasets": Dataset.objects.for_tenant(tenant),
        "max_documents": Document.objects.for_tenant(tenant),
        "max_api_keys": APIKey.objects.for_tenant(tenant).filter(live, revoked_at__isnull=True),
    }


def _stored_bytes(tenant: Tenant) -> int:
    from django.db.models import Sum

    from datasets.models import Document

    total = Document.objects.for_tenant(tenant).aggregate(total=Sum("size_bytes"))["total"]
    return total or 0


def usage(tenant: Tenant) -> dict[str, Any]:
    """What the quotas count, now: ``{"bots", "datasets", "documents", "storage_mb",
    "api_keys"}`` (storage in MiB, two decimals)."""
    counts = {key: qs.count() for key, qs in _querysets(tenant).items()}
    return {
        "bots": counts["max_bots"],
        "datasets": counts["max_datasets"],
        "documents": counts["max_documents"],
        "storage_mb": round(_stored_bytes(tenant) / MB, 2),
        "api_keys": counts["max_api_keys"],
    }


def _current_quotas(tenant: Tenant, *, lock: bool) -> Any:
    """The tenant's quotas as stored now (never a cached copy), its row locked if ``lock``."""
    rows = Tenant.objects.filter(pk=tenant.pk)
    if lock:
        assert transaction.get_connection().in_atomic_block, "lock in the insert's transaction"
        rows = rows.select_for_update(no_key=True)
    return rows.values_list("quotas", flat=True).first()


def enforce_quota(*, tenant: Tenant, quota: str) -> None:
    """Refuse (409) one more of what ``quota`` counts when the tenant is at its limit. Call it
    inside the transaction that inserts the row, before the insert."""
    refusal = quota_refusal(tenant=tenant, quota=quota, lock=True)
    if refusal is not None:
        raise refusal


def quota_refusal(*, tenant: Tenant, quota: str, lock: bool = False) -> QuotaExceeded | None:
    """The refusal one more of what ``quota`` counts would get now, else None (``lock=False``:
    a form's early check; the insert checks again with ``enforce_quota``)."""
    limit = _limit(_current_quotas(tenant, lock=lock), quota)
    if limit is not None and _querysets(tenant)[quota].count() >= limit:
        return _count_exceeded(quota, limit)
    return None


def enforce_document_quota(
    *, tenant: Tenant, size_bytes: int, lock: bool = False, replacing_bytes: int | None = None
) -> None:
    """Refuse (409) a new document of ``size_bytes`` over ``max_documents`` or
    ``max_storage_mb``. ``lock=False`` is the early check before its file is stored; the insert's
    transaction checks again with ``lock=True``. ``replacing_bytes``: an existing document's
    file of that size is replaced instead (a URL fetched again): it is not one more document,
    and only a larger file is refused, counting the difference."""
    quotas = _current_quotas(tenant, lock=lock)
    limit = _limit(quotas, "max_documents")
    count = replacing_bytes is None and limit is not None
    if count and _querysets(tenant)["max_documents"].count() >= limit:
        raise _count_exceeded("max_documents", limit)
    limit = _limit(quotas, "max_storage_mb")
    if limit is None or (replacing_bytes is not None and size_bytes <= replacing_bytes):
        return
    stored = _stored_bytes(tenant) - (replacing_bytes or 0)
    if stored + size_bytes > limit * MB:
        raise QuotaExceeded(
            f"This document ({_mb(size_bytes)} MB) would take this tenant over its storage quota "
            f"of {limit} MB (quotas.max_storage_mb; {_mb(stored)} MB stored); delete documents "
            "or raise the quota.",
            details={
                "quota": "max_storage_mb", "limit": limit,
                "stored_bytes": stored, "document_bytes": size_bytes,
            },
        )  # fmt: skip


def _count_exceeded(quota: str, limit: int) -> QuotaExceeded:
    one, many, remedy = COUNTED[quota]
    return QuotaExceeded(
        f"This tenant has reached its quota of {limit} {one if limit == 1 else many} "
        f"(quotas.{quota}); {remedy} or raise the quota.",
        details={"quota": quota, "limit": limit},
    )


def _mb(size: int) -> str:
    return f"{round(size / MB, 2):g}"
