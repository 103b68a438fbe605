"""Writes of bots and scopes. Related ids are resolved through the tenant (400 when unknown)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from bots.models import Bot, Scope
from bots.selectors import datasets_by_ids, scopes_by_ids
from chatbot_project.errors import APIError, Conflict
from tenants.models import Tenant
from tenants.views import invalid

BOT_FIELDS = ("name", "slug", "system_prompt", "model", "temperature", "max_tokens", "is_active")
RETRIEVAL_FIELDS = {
    "top_k": "top_k",
    "score_threshold": "score_threshold",
    "mode": "retrieval_mode",
}
SCOPE_FIELDS = (
    "name", "slug", "document_tags", "blocked_topics", "blocked_terms", "redact_terms",
    "refusal_message", "require_grounding", "max_input_chars",
)  # fmt: skip


def _slug_for(name: str, slug: str | None) -> str:
    value = slug if slug else slugify(name)[:64].strip("-")
    if not value:
        raise APIError("slug: give a slug of lowercase letters, digits and hyphens.")
    return value


def _save(obj: Any, kind: str) -> None:
    try:
        # tenant excluded: the (tenant, slug) constraint is checked below as a 409, not a 400.
        obj.full_clean(exclude=["tenant", "datasets", "default_scope"])
    except DjangoValidationError as exc:
        raise invalid(exc) from None
    model = type(obj)
    clash = model.objects.filter(tenant_id=obj.tenant_id, slug=obj.slug).exclude(pk=obj.pk)
    if clash.exists():
        raise Conflict(f"A {kind} with the slug {obj.slug!r} already exists in this tenant.")
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise Conflict(
            f"A {kind} with the slug {obj.slug!r} already exists in this tenant."
        ) from None


def _apply_bot(bot: Bot, tenant: Tenant, data: dict[str, Any]) -> list | None:
    for field in BOT_FIELDS:
        if field in data:
            setattr(bot, field, data[field])
    for key, field in RETRIEVAL_FIELDS.items():
        if key in (data.get("retrieval") or {}):
            setattr(bot, field, data["retrieval"][key])
    if "default_scope" in data:
        ref = data["default_scope"]
        bot.default_scope = (
            None
            if ref is None
            else scopes_by_ids(tenant=tenant, ids=[ref], field="default_scope")[0]
        )
    if "datasets" in data:
        return datasets_by_ids(tenant=tenant, ids=data["datasets"] or [])
    return None


@transaction.atomic
def bot_create(*, tenant: Tenant, data: dict[str, Any]) -> Bot:
    """Create a bot from validated API fields (``retrieval`` nested, ids for relations)."""
    data = dict(data)
    data["slug"] = _slug_for(data.get("name", ""), data.get("slug"))
    bot = Bot(tenant=tenant)
    datasets = _apply_bot(bot, tenant, data)
    _save(bot, "bot")
    if datasets:
        bot.datasets.set(datasets)
    return bot


@transaction.atomic
def bot_update(*, tenant: Tenant, bot: Bot, data: dict[str, Any]) -> Bot:
    assert bot.tenant_id == tenant.id
    datasets = _apply_bot(bot, tenant, data)
    _save(bot, "bot")
    if datasets is not None:
        bot.datasets.set(datasets)
    return bot


def bot_delete(*, tenant: Tenant, bot: Bot) -> None:
    assert bot.tenant_id == tenant.id
    bot.delete()


def _apply_scope(scope: Scope, tenant: Tenant, data: dict[str, Any]) -> list | None:
    for field in SCOPE_FIELDS:
        if field in data:
            setattr(scope, field, data[field])
    if "datasets" in data:
        return datasets_by_ids(tenant=tenant, ids=data["datasets"] or [])
    return None


@transaction.atomic
def scope_create(*, tenant: Tenant, data: dict[str, Any]) -> Scope:
    data = dict(data)
    data["slug"] = _slug_for(data.get("name", ""), data.get("slug"))
    scope = Scope(tenant=tenant)
    datasets = _apply_scope(scope, tenant, data)
    _save(scope, "scope")
    if datasets:
        scope.datasets.set(datasets)
    return scope


@transaction.atomic
def scope_update(*, tenant: Tenant, scope: Scope, data: dict[str, Any]) -> Scope:
    assert scope.tenant_id == tenant.id
    datasets = _apply_scope(scope, tenant, data)
    _save(scope, "scope")
    if datasets is not None:
        scope.datasets.set(datasets)
    return scope


def scope_delete(*, tenant: Tenant, scope: Scope) -> None:
    assert scope.tenant_id == tenant.id
    scope.delete()
