"""Writes of the audit log: ``audit_record`` (called by the other apps' services, in the
transaction of the change they make) and ``audit_purge`` (retention, ``manage.py purge_audit``).

What goes into ``changes``: for an update, each changed field's old and new value when it is a
small scalar (or a short list or mapping of them); otherwise only that it changed. Never the
value of a secret-bearing field (``NEVER_RECORDED``: key material, passwords, TOTP secrets,
document text and files), whatever a caller passes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.db import models, transaction

from audit.context import current_actor
from audit.models import AuditEvent
from tenants.models import Tenant

NEVER_RECORDED = frozenset(
    {"key", "raw", "key_hash", "password", "secret", "bin_key", "key_material", "token", "text",
     "content", "json", "file", "uploaded_file"}
)  # fmt: skip
MAX_TEXT = 200  # characters of a string value kept; a longer one is recorded as changed only
MAX_ITEMS = 20

# Events recorded in this context (a request, a command): the admin records a save itself only
# when the service it went through recorded none (``audit.admin_hooks``).
_recorded: ContextVar[int] = ContextVar("audit_recorded", default=0)


def recorded_count() -> int:
    return _recorded.get()


def audit_record(
    *,
    tenant: Tenant,
    action: str,
    obj: models.Model | None = None,
    object_id: Any = "",
    label: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Insert one event for ``tenant``; the caller's transaction is the change's own, so a
    change rolled back leaves no event. ``action`` is ``<object type>.<verb>``."""
    actor = current_actor()
    if obj is not None:
        object_id = object_id or obj.pk
        label = label or str(obj)
    event = AuditEvent.objects.create(
        tenant_id=tenant.pk,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        object_type=action.split(".", 1)[0],
        object_id=str(object_id or "")[:64],
        object_label=label[:MAX_TEXT],
        changes=_clean(changes or {}),
        via=actor.via,
        request_id=actor.request_id,
        client_address=actor.client_address,
    )
    _recorded.set(_recorded.get() + 1)
    return event


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """``obj``'s values of ``fields`` (a relation by its id), to ``diff`` after a change."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        values[name] = getattr(obj, field.attname if field.is_relation else name)
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value differs: ``{"old", "new"}``, or ``{"changed": true}`` for a value
    too large (or too secret) to keep."""
    return {
        name: _pair(name, before.get(name), value)
        for name, value in after.items()
        if before.get(name) != value
    }


def _pair(name: str, old: Any, new: Any) -> dict[str, Any]:
    if name in NEVER_RECORDED:
        return {"changed": True}
    small_old, small_new = _small(old), _small(new)
    if small_old is _BIG or small_new is _BIG:
        return {"changed": True}
    return {"old": small_old, "new": small_new}


_BIG = object()


def _small(value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else _BIG
    if depth == 0 and isinstance(value, list | tuple | set | frozenset) and len(value) <= MAX_ITEMS:
        items = [_small(v, 1) for v in value]
        items = sorted(items, key=str) if isinstance(value, set | frozenset) else items
        return _BIG if any(i is _BIG for i in items) else items
    if depth == 0 and isinstance(value, dict) and len(value) <= MAX_ITEMS:
        items = {str(k): _small(v, 1) for k, v in value.items()}
        return _BIG if any(v is _BIG for v in items.values()) else items
    return _BIG


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` as stored: secret-bearing names reduced to ``changed``; other values that
    are not small (not made by ``diff``) too."""
    cleaned = {}
    for name, value in changes.items():
        if name in NEVER_RECORDED:
            cleaned[name] = {"changed": True}
        elif isinstance(value, dict) and set(value) <= {"old", "new", "changed"}:
            cleaned[name] = (
                _pair(name, value.get("old"), value.get("new"))
                if ("changed" not in value)
                else {"changed": True}
            )
        else:
            small = _small(value)
            cleaned[name] = {"changed": True} if small is _BIG else small
    return cleaned


def audit_purge(*, before: dt.datetime, tenant: Tenant | None = None, batch: int = 5000) -> int:
    """Delete events created before ``before`` (of ``tenant``, or all), a batch per
    transaction; returns how many."""
    qs = AuditEvent.objects.filter(created_at__lt=before)
    if tenant is not None:
        qs = qs.for_tenant(tenant)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(qs.order_by("created_at").values_list("pk", flat=True)[:batch])
            if not ids:
                return total
            total += AuditEvent.objects.filter(pk__in=ids).delete()[0]
