"""The admin's saves and deletes, recorded like the API's (``TenantScopedAdminMixin`` and
``TenantAdmin`` call these). A save that went through a service which recorded it already (an
API key added: ``api_key_create``) is not recorded twice; deletes that go through a service
(bots, datasets, documents) never reach ``admin_deleted``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from audit.services import audit_record, recorded_count


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.QuerySet | list | tuple):
        return [_plain(v) for v in value]
    return value


def form_changes(form: Any) -> dict[str, Any]:
    return {
        name: {
            "old": _plain(form.initial.get(name)),
            "new": _plain(form.cleaned_data.get(name)),
        }
        for name in form.changed_data
    }


def _tenant(obj: models.Model) -> Any:
    return obj if obj._meta.label == "tenants.Tenant" else obj.tenant


def admin_saved(
    object_type: str | None, obj: models.Model, form: Any, change: bool, save: Callable[[], Any]
) -> None:
    """Run ``save``; then record ``<object_type>.update`` (or ``.create``) unless it recorded."""
    before = recorded_count()
    save()
    if object_type is None or recorded_count() > before:
        return
    verb = "update" if change else "create"
    audit_record(
        tenant=_tenant(obj), action=f"{object_type}.{verb}", obj=obj,
        changes=form_changes(form) if change else {},
    )  # fmt: skip


def admin_deleted(object_type: str | None, objs: Any) -> None:
    """Record ``<object_type>.delete`` for each of ``objs``, before they are deleted."""
    if object_type is None:
        return
    for obj in objs:
        audit_record(tenant=_tenant(obj), action=f"{object_type}.delete", obj=obj)
