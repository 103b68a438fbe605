"""Writes of bots and scopes. Related ids are resolved through the tenant (400 when unknown).

Bots and scopes are written the same way: set the fields the data carries (``_apply_bot``,
``_apply_scope``: where they differ), then ``_save`` validates, saves and sets the datasets.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.text import slugify

from audit.services import audit_record, diff, snapshot
from bots.models import Bot, Scope
from bots.selectors import datasets_by_ids, scopes_by_ids
from chatbot_project.errors import APIError, Conflict, NotFound
from conversations.services import conversation_detach_bot
from tenants.models import Tenant
from tenants.quotas import enforce_quota
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
# What the audit log compares before and after a write (audit.services.diff).
AUDITED = {
    Bot: (*BOT_FIELDS, "top_k", "score_threshold", "retrieval_mode", "default_scope"),
    Scope: (*SCOPE_FIELDS, "limited_to_datasets"),
}


@transaction.atomic
def bot_create(*, tenant: Tenant, data: dict[str, Any]) -> Bot:
    """Create a bot from validated API fields (``retrieval`` nested, ids for relations)."""
    enforce_quota(tenant=tenant, quota="max_bots")
    data = _with_slug(data)
    bot = Bot(tenant=tenant)
    _apply_bot(bot, tenant, data)
    _save(bot, tenant, data)
    _record(tenant, "bot.create", {}, bot, data)
    return bot


@transaction.atomic
def bot_update(*, tenant: Tenant, bot: Bot, data: dict[str, Any]) -> Bot:
    assert bot.tenant_id == tenant.id
    bot = _locked(Bot, tenant, bot)
    before = _audited(bot, data)
    _apply_bot(bot, tenant, data)
    _save(bot, tenant, data)
    _record(tenant, "bot.update", before, bot, data)
    return bot


@transaction.atomic
def bot_delete(*, tenant: Tenant, bot: Bot) -> None:
    """Delete ``bot``, keeping its conversations, messages and usage (``bot`` NULL, its last
    slug in ``Conversation.bot_slug``); the tenant deletes those explicitly if it wants to.

    The bot's row is locked first, so a chat storing an answer meanwhile either committed
    before (its rows are detached here) or fails its foreign-key check after this commits
    (``conversations.chat_writes`` then stores it detached): this delete never fails on it."""
    assert bot.tenant_id == tenant.id
    locked = Bot.objects.for_tenant(tenant).select_for_update().filter(pk=bot.pk).first()
    if locked is None:  # deleted meanwhile
        return
    conversation_detach_bot(tenant=tenant, bot=locked)
    audit_record(tenant=tenant, action="bot.delete", obj=locked)
    locked.delete()


@transaction.atomic
def scope_create(*, tenant: Tenant, data: dict[str, Any]) -> Scope:
    data = _with_slug(data)
    scope = Scope(tenant=tenant)
    _apply_scope(scope, data)
    _save(scope, tenant, data)
    _record(tenant, "scope.create", {}, scope, data)
    return scope


@transaction.atomic
def scope_update(*, tenant: Tenant, scope: Scope, data: dict[str, Any]) -> Scope:
    assert scope.tenant_id == tenant.id
    scope = _locked(Scope, tenant, scope)
    before = _audited(scope, data)
    _apply_scope(scope, data)
    _save(scope, tenant, data)
    _record(tenant, "scope.update", before, scope, data)
    return scope


@transaction.atomic
def scope_delete(*, tenant: Tenant, scope: Scope) -> None:
    """Delete ``scope``, its row locked first: a bot or key being pointed at it meanwhile
    (``scopes_by_ids(lock=True)``) commits before or finds it gone (a 400), instead of a
    foreign-key violation (500) on one side. A scope that is a bot's default is a 409 naming
    the bots (``Bot.default_scope`` is RESTRICT); a key limited to it keeps the limit, to none."""
    assert scope.tenant_id == tenant.id
    if not Scope.objects.select_for_update().filter(pk=scope.pk).exists():
        return
    users = list(
        Bot.objects.for_tenant(tenant).filter(default_scope=scope).order_by("slug")
        .values_list("slug", flat=True)
    )  # fmt: skip
    if users:  # (the row lock above: a bot pointed at it later waits, then finds it gone)
        names = ", ".join(f"'{slug}'" for slug in users[:10]) + (" ..." if len(users) > 10 else "")
        raise Conflict(
            f"This scope is the default scope of the bot(s) {names}: deleting it would lift its "
            "guardrails and dataset limit from their chats. Give those bots another default "
            'scope (or none, PATCH /v1/bots/{id} with "default_scope") first.',
            details={"bots": users},
        )
    audit_record(tenant=tenant, action="scope.delete", obj=scope)
    scope.delete()


def _locked(model: type[Bot] | type[Scope], tenant: Tenant, obj: Bot | Scope) -> Any:
    """``obj``'s row as it is now, locked until the update commits (``locked_row``: chats
    inserting rows that reference it go on), so a PATCH applies its fields to the row as a
    concurrent PATCH left it: saving the row its request had read put the other one's fields
    back (a bot switched off was on again). NotFound when it was deleted meanwhile."""
    row = model.objects.locked_row(tenant, obj.pk)
    if row is None:
        raise NotFound()
    return row


def _apply_bot(bot: Bot, tenant: Tenant, data: dict[str, Any]) -> None:
    _set_fields(bot, BOT_FIELDS, data)
    for key, field in RETRIEVAL_FIELDS.items():
        if key in (data.get("retrieval") or {}):
            setattr(bot, field, data["retrieval"][key])
    if "default_scope" in data:
        ref = data["default_scope"]
        bot.default_scope = (
            None
            if ref is None
            else scopes_by_ids(tenant=tenant, ids=[ref], field="default_scope", lock=True)[0]
        )


def _apply_scope(scope: Scope, data: dict[str, Any]) -> None:
    _set_fields(scope, SCOPE_FIELDS, data)
    if "datasets" in data:
        # Listing datasets limits the scope to them, also once they are deleted; sending an
        # empty list is what lifts the limit.
        scope.limited_to_datasets = bool(data["datasets"])


def _set_fields(obj: Bot | Scope, fields: tuple[str, ...], data: dict[str, Any]) -> None:
    for field in fields:
        if field in data:
            setattr(obj, field, data[field])


def _with_slug(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with its slug, or one made from the name (400 when none can be)."""
    slug = data.get("slug") or slugify(data.get("name", ""))[:64].strip("-")
    if not slug:  # (a name of no Latin letters or digits: Japanese, emoji)
        problem = (
            f"no slug can be made from the name {data.get('name', '')!r}; send a `slug` of "
            'lowercase letters a-z, digits and hyphens, e.g. "support".'
        )
        raise APIError(f"slug: {problem}", details={"fields": {"slug": [problem]}})
    return {**data, "slug": slug}


def _save(obj: Bot | Scope, tenant: Tenant, data: dict[str, Any]) -> None:
    """Validate and save ``obj``, then set its datasets when ``data`` names them.

    Unknown dataset ids and invalid fields are a 400; a slug taken in the tenant is a 409.
    """
    datasets = None
    if "datasets" in data:
        datasets = datasets_by_ids(tenant=tenant, ids=data["datasets"] or [], lock=True)
    try:
        # tenant excluded: the (tenant, slug) constraint is checked below as a 409, not a 400.
        obj.full_clean(exclude=["tenant", "datasets", "default_scope"])
    except DjangoValidationError as exc:
        raise invalid(exc) from None
    kind = obj._meta.model_name
    taken = f"A {kind} with the slug {obj.slug!r} already exists in this tenant."
    clash = type(obj).objects.filter(tenant_id=obj.tenant_id, slug=obj.slug).exclude(pk=obj.pk)
    if clash.exists():
        raise Conflict(taken)
    adding = obj._state.adding
    try:
        with transaction.atomic():
            # An update never inserts: a PATCH racing a DELETE saved the deleted row back.
            obj.save(force_update=not adding)
    except IntegrityError:
        raise Conflict(taken) from None
    except DatabaseError as exc:
        if adding or type(exc) is not DatabaseError:  # (OperationalError & co: a 503)
            raise
        raise NotFound() from None  # deleted meanwhile: the forced update matched no row
    if datasets is not None:
        obj.datasets.set(datasets)


def _audited(obj: Bot | Scope, data: dict[str, Any]) -> dict[str, Any]:
    values = snapshot(obj, AUDITED[type(obj)])
    if "datasets" in data and not obj._state.adding:
        values["datasets"] = sorted(str(pk) for pk in obj.datasets.values_list("pk", flat=True))
    return values


def _record(
    tenant: Tenant, action: str, before: dict[str, Any], obj: Bot | Scope, data: dict[str, Any]
) -> None:
    """One audit event for the write, with the fields it changed (none: a no-op PATCH, none)."""
    after = snapshot(obj, AUDITED[type(obj)])
    if "datasets" in data:
        after["datasets"] = sorted(str(pk) for pk in data["datasets"] or ())
    changes = diff(before, after)
    if changes or action.endswith(".create"):
        audit_record(tenant=tenant, action=action, obj=obj, label=obj.slug, changes=changes)
