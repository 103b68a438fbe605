"""Reads of bots and scopes, always through the tenant (and the key's bot/scope restrictions)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet

from bots.models import Bot, Scope
from chatbot_project.errors import APIError, NotFound
from tenants.models import Tenant


def bot_list(*, tenant: Tenant, allowed_ids: Iterable | None = None) -> QuerySet[Bot]:
    qs = Bot.objects.for_tenant(tenant).prefetch_related("datasets")
    if allowed_ids is not None:
        qs = qs.filter(id__in=list(allowed_ids))
    return qs


def bot_get(*, tenant: Tenant, bot_id: Any, allowed_ids: Iterable | None = None) -> Bot:
    try:
        return bot_list(tenant=tenant, allowed_ids=allowed_ids).get(id=bot_id)
    except (Bot.DoesNotExist, ValueError):
        raise NotFound() from None


def bot_exists(*, tenant: Tenant, bot_id: Any) -> bool:
    """Whether the bot is (still) there, active or not."""
    return Bot.objects.for_tenant(tenant).filter(id=bot_id).exists()


def bot_resolve(*, tenant: Tenant, ref: str, allowed_ids: Iterable | None = None) -> Bot:
    """A bot by id or slug (chat requests name bots either way); NotFound otherwise."""
    qs = bot_list(tenant=tenant, allowed_ids=allowed_ids)
    try:
        return qs.get(id=uuid.UUID(str(ref)))
    except (ValueError, Bot.DoesNotExist):
        pass
    try:
        return qs.get(slug=str(ref))
    except Bot.DoesNotExist:
        raise NotFound() from None


def scope_list(*, tenant: Tenant, allowed_ids: Iterable | None = None) -> QuerySet[Scope]:
    qs = Scope.objects.for_tenant(tenant).prefetch_related("datasets")
    if allowed_ids is not None:
        qs = qs.filter(id__in=list(allowed_ids))
    return qs


def scope_get(*, tenant: Tenant, scope_id: Any, allowed_ids: Iterable | None = None) -> Scope:
    try:
        return scope_list(tenant=tenant, allowed_ids=allowed_ids).get(id=scope_id)
    except (Scope.DoesNotExist, ValueError):
        raise NotFound() from None


def scope_resolve(*, tenant: Tenant, ref: str, allowed_ids: Iterable | None = None) -> Scope:
    """A scope by id or slug; NotFound when missing, another tenant's or not allowed."""
    qs = scope_list(tenant=tenant, allowed_ids=allowed_ids)
    try:
        return qs.get(id=uuid.UUID(str(ref)))
    except (ValueError, Scope.DoesNotExist):
        pass
    try:
        return qs.get(slug=str(ref))
    except Scope.DoesNotExist:
        raise NotFound() from None


def _by_ids(model: Any, tenant: Tenant, ids: Iterable, field: str, lock: bool = False) -> list:
    wanted = list(dict.fromkeys(ids))
    rows = model.objects.for_tenant(tenant).filter(id__in=wanted)
    if lock:
        rows = rows.select_for_update(no_key=True)
    found = {obj.id: obj for obj in rows}
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise APIError(
            f"{field}: no such id(s) in this tenant: {', '.join(missing)}.",
            details={"fields": {field: [f"Unknown id {m}." for m in missing]}},
        )
    return [found[i] for i in wanted]


def _by_refs(model: Any, tenant: Tenant, refs: Iterable, field: str, lock: bool = False) -> list:
    """As ``_by_ids``, each ref a slug or an id (a slug never has an id's form: models
    ``check_slug_is_not_an_id``); the rows in the order named, once each. Another tenant's slug
    or id is unknown, in the same 400 as an unknown id."""
    wanted = list(dict.fromkeys(str(r).strip() for r in refs))
    ids: dict[str, uuid.UUID] = {}
    for ref in wanted:
        with contextlib.suppress(ValueError):  # a slug
            ids[ref] = uuid.UUID(ref)
    slugs = [r for r in wanted if r not in ids]
    rows = model.objects.for_tenant(tenant).filter(Q(id__in=list(ids.values())) | Q(slug__in=slugs))
    if lock:
        rows = rows.select_for_update(no_key=True)
    rows = list(rows)
    by_id, by_slug = {o.id: o for o in rows}, {o.slug: o for o in rows}
    found = {r: (by_id.get(ids[r]) if r in ids else by_slug.get(r)) for r in wanted}
    missing = [str(ids.get(r, r)) for r, obj in found.items() if obj is None]
    if missing:  # unknown ids alone read exactly as from ``_by_ids``
        slugs_missing = {r for r, obj in found.items() if obj is None and r not in ids}
        what = "slug(s) or id(s)" if slugs_missing else "id(s)"
        raise APIError(
            f"{field}: no such {what} in this tenant: {', '.join(missing)}.",
            details={
                "fields": {
                    field: [
                        f"Unknown slug {m!r}." if m in slugs_missing else f"Unknown id {m}."
                        for m in missing
                    ]
                }
            },
        )
    return list({obj.id: obj for obj in found.values()}.values())


def bots_by_refs(
    *, tenant: Tenant, refs: Iterable, field: str = "bots", lock: bool = False
) -> list:
    """The tenant's bots named by slug or id (``bots_by_ids`` otherwise)."""
    return _by_refs(Bot, tenant, refs, field, lock)


def scopes_by_refs(
    *, tenant: Tenant, refs: Iterable, field: str = "scopes", lock: bool = False
) -> list:
    """The tenant's scopes named by slug or id (``scopes_by_ids`` otherwise)."""
    return _by_refs(Scope, tenant, refs, field, lock)


def datasets_by_ids(
    *, tenant: Tenant, ids: Iterable, field: str = "datasets", lock: bool = False
) -> list:
    """The tenant's datasets with these ids, in order; 400 naming any unknown (or foreign) id.
    ``lock``: rows locked until the transaction ends (FOR NO KEY UPDATE), so a dataset being
    deleted is waited for and then unknown, and one linked here cannot be deleted meanwhile
    (``datasets.services.dataset_delete`` locks it first): the link was a 500 either way."""
    from datasets.models import Dataset

    return _by_ids(Dataset, tenant, ids, field, lock)


def scopes_by_ids(
    *, tenant: Tenant, ids: Iterable, field: str = "scopes", lock: bool = False
) -> list[Scope]:
    """As ``datasets_by_ids``; ``services.scope_delete`` locks the scope first."""
    return _by_ids(Scope, tenant, ids, field, lock)


def bots_by_ids(
    *, tenant: Tenant, ids: Iterable, field: str = "bots", lock: bool = False
) -> list[Bot]:
    """As ``datasets_by_ids``; ``services.bot_delete`` locks the bot first."""
    return _by_ids(Bot, tenant, ids, field, lock)
