"""What the bot and scope commands share: names the operator knows (a dataset by name, a scope
by slug, or either by id) resolved inside one tenant, and their sentences when unknown."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from datasets.models import Dataset
from tenants.models import Tenant


def tenant_named(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"No tenant {slug!r}; create it with `manage.py create_tenant`.")
    return tenant


def refs(value: str | None, option: str) -> list[str]:
    """The option's comma-separated names; given empty (an unset "$VAR") is an error, since
    it must not silently mean "none"."""
    if value is None:
        return []
    refs = [part.strip() for part in value.split(",") if part.strip()]
    if not refs:
        raise CommandError(f"{option} is empty; name at least one, or leave {option} out.")
    return refs


def one(qs: Any, ref: str, by: str) -> Any:
    """The row whose ``by`` field (or, failing that, id) is ``ref``, else None."""
    obj = qs.filter(**{by: ref}).first()
    if obj is None:
        try:
            obj = qs.filter(id=ref).first()
        except ValidationError:  # not a UUID
            obj = None
    return obj


def datasets_named(tenant: Tenant, refs: list[str]) -> list[Dataset]:
    out = []
    for ref in refs:
        dataset = one(Dataset.objects.for_tenant(tenant), ref, "name")
        if dataset is None:
            names = list(
                Dataset.objects.for_tenant(tenant).order_by("name").values_list("name", flat=True)
            )
            known = f"its datasets: {', '.join(names)}" if names else "it has no datasets yet"
            raise CommandError(
                f"No dataset {ref!r} in tenant {tenant.slug!r} ({known}); `manage.py ingest "
                f"--tenant {tenant.slug} --dataset <name> <files>` makes one."
            )
        out.append(dataset)
    return out
