from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from tenants.models import Membership, Tenant


def tenant_create(*, slug: str, name: str = "", default_rate_limit: str = "") -> Tenant:
    """Create a tenant; its first audit event, ``tenant.create``, in the same transaction."""
    tenant = Tenant(
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        default_rate_limit=default_rate_limit,
    )
    tenant.full_clean()
    with transaction.atomic():
        tenant.save()
        tenant_record_created(tenant=tenant)
    return tenant


TENANT_CREATED_FIELDS = (
    "slug",
    "name",
    "is_active",
    "default_model",
    "default_rate_limit",
    "quotas",
)


def tenant_record_created(*, tenant: Tenant) -> None:
    """Record ``tenant.create`` for ``tenant``, just inserted (by ``tenant_create``, or the
    admin's add form): its settings as they start, quotas included."""
    from audit.services import audit_record, diff, snapshot

    audit_record(
        tenant=tenant, action="tenant.create", obj=tenant,
        changes=diff({}, snapshot(tenant, TENANT_CREATED_FIELDS)),
    )  # fmt: skip


@transaction.atomic
def user_create(
    *,
    tenant: Tenant,
    username: str,
    password: str | None = None,
    role: str = Membership.Role.MEMBER,
    email: str = "",
    is_staff: bool = False,
):
    """Create (or reuse) a user and give them a membership in the tenant."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if created or password:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
    if is_staff:
        user.is_staff = True
    user.save()
    from audit.services import audit_record

    old = Membership.objects.filter(tenant=tenant, user=user).values_list("role", flat=True).first()
    membership, _ = Membership.objects.update_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    if old != role:
        audit_record(
            tenant=tenant, action="member.create" if old is None else "member.update",
            obj=membership, label=user.get_username(), changes={"role": {"old": old, "new": role}},
        )  # fmt: skip
    return user


def last_owner_refusal(*, memberships: Iterable[Membership], lock: bool = False) -> str | None:
    """Why ``memberships`` may not be deleted or made other than owner: they are all the owners
    of a tenant that has some (only an owner manages owners, and nobody grants a role above
    their own, so an ownerless tenant would need an operator). None when they may. ``lock``
    (in a transaction): the owners' rows stay locked until it ends, so that two owners leaving
    at once cannot each count the other."""
    leaving: dict[Any, set[Any]] = {}
    for membership in memberships:
        leaving.setdefault(membership.tenant_id, set()).add(membership.pk)
    for tenant_id, pks in leaving.items():
        owners = Membership.objects.filter(tenant_id=tenant_id, role=Membership.Role.OWNER)
        if lock:
            owners = owners.order_by("pk").select_for_update(of=("self",))
        ids = set(owners.values_list("pk", flat=True))
        if ids and ids <= pks:
            slug = Tenant.objects.filter(pk=tenant_id).values_list("slug", flat=True).first()
            return (
                f"{slug} would be left without an owner; make another member its owner "
                "first (an owner can), then change or remove this one."
            )
    return None


TENANT_FIELDS = ("name", "default_model", "default_rate_limit", "quotas")


@transaction.atomic
def tenant_update(*, tenant: Tenant, data: dict) -> Tenant:
    """Update the tenant's settings (name, default model, default rate limit, quotas)."""
    from django.core.exceptions import ValidationError
    from django.db import DatabaseError

    from audit.services import audit_record, diff, snapshot
    from chatbot_project.errors import NotFound
    from tenants.auth import invalidate_key_cache
    from tenants.views import invalid

    tenant = Tenant.objects.get(pk=tenant.pk)  # a fresh row, never the cached auth copy
    changed = [field for field in TENANT_FIELDS if field in data]
    before = snapshot(tenant, changed)
    for field in changed:
        setattr(tenant, field, data[field])
    try:
        # Quotas stored before they were validated do not block a change of something else.
        tenant.full_clean(exclude=None if "quotas" in data else ["quotas"])
    except ValidationError as exc:
        raise invalid(exc) from None
    # Only what was sent: saving the row as read undid a suspension committed meanwhile
    # (is_active written back) and the field of a concurrent PATCH.
    try:
        tenant.save(update_fields=[*changed, "updated_at"])
    except DatabaseError as exc:
        if type(exc) is not DatabaseError:  # (OperationalError & co: a 503)
            raise
        raise NotFound() from None  # deleted meanwhile (a plain save() inserted it again)
    changes = diff(before, snapshot(tenant, changed))
    if changes:
        audit_record(tenant=tenant, action="tenant.update", obj=tenant, changes=changes)
    invalidate_key_cache(tenant_id=tenant.id)  # the new default rate limit applies at once here
    return tenant


def tenant_update_for(*, context: Any, data: dict) -> Tenant:
    """``tenant_update`` on behalf of ``context``. A credential restricted to some bots (or
    scopes) changes nothing tenant-wide: its default rate limit and quotas bind every key
    (a key limited to one bot could set "1/d" for all the others, or lift the quotas), as it
    may not create or revoke keys beyond its restriction (apikeys.services)."""
    from chatbot_project.errors import APIError

    limited = [
        name
        for name, allowed in (
            ("bots", context.allowed_bot_ids),
            ("scopes", context.allowed_scope_ids),
        )
        if allowed is not None
    ]
    if limited:
        raise APIError(
            f"Your credential is restricted to some {' and '.join(limited)}, so it cannot "
            "change the tenant's settings; use an unrestricted admin key or sign in as an admin.",
            type="permission_denied",
            status_code=403,
        )
    return tenant_update(tenant=context.tenant, data=data)


def tenant_deactivate(*, tenant: Tenant) -> Tenant:
    """Suspend a tenant: its keys and users stop working (other processes within the key cache
    time, API_KEY_CACHE_SECONDS)."""
    from tenants.auth import invalidate_key_cache

    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    tenant.is_active = False
    invalidate_key_cache(tenant_id=tenant.id)
    return tenant


def tenant_footprint(*, tenant: Tenant) -> dict[str, int]:
    """What deleting ``tenant`` removes: rows per kind, stored files and their bytes, and the
    users left without any membership (candidates for ``tenant_delete(with_users=True)``)."""
    from django.db.models import Sum

    from apikeys.models import APIKey
    from bots.models import Bot
    from conversations.models import Conversation, Message
    from datasets.models import Chunk, Dataset, Document

    documents = Document.objects.filter(tenant=tenant)
    return {
        "bots": Bot.objects.filter(tenant=tenant).count(),
        "datasets": Dataset.objects.filter(tenant=tenant).count(),
        "documents": documents.count(),
        "chunks": Chunk.objects.filter(tenant=tenant).count(),
        "stored_files": documents.exclude(file="").count(),
        "stored_bytes": documents.exclude(file="").aggregate(n=Sum("size_bytes"))["n"] or 0,
        "conversations": Conversation.objects.filter(tenant=tenant).count(),
        "messages": Message.objects.filter(tenant=tenant).count(),
        "api_keys": APIKey.objects.filter(tenant=tenant).count(),
        "memberships": Membership.objects.filter(tenant=tenant).count(),
        "users_left_without_tenant": _sole_members(tenant).count(),
    }


def _sole_members(tenant: Tenant):
    """Users whose only memberships are in ``tenant`` (superusers never count)."""
    users = get_user_model().objects.filter(memberships__tenant=tenant, is_superuser=False)
    return users.exclude(memberships__tenant__in=Tenant.objects.exclude(pk=tenant.pk)).distinct()


def tenant_delete(*, tenant: Tenant, with_users: bool = False) -> None:
    """Delete a tenant and everything it owns, stored document files included (a cascade of
    rows alone left customers' uploads on disk). ``with_users``: also the users who belonged to
    this tenant only. Keys stop working at once in this process, within the key cache time
    (API_KEY_CACHE_SECONDS) elsewhere; a worker ingesting one of its documents stops at its
    next progress write. Its questions' cached embeddings (Redis, ``qemb:<tenant id>:...``)
    go too: they were kept up to a week after the tenant.

    Its audit events go with it (they are its rows), so the deletion itself is a WARNING line of
    the ``audit`` logger, once it committed (``_log_deleted``)."""
    from datasets.document_services import delete_stored_files
    from datasets.models import Document
    from datasets.query_embeddings import forget_cached_questions
    from tenants.auth import invalidate_key_cache

    with transaction.atomic():
        locked = Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if locked is None:
            return
        files = list(
            Document.objects.filter(tenant=tenant).exclude(file="").values_list("file", flat=True)
        )
        users = list(_sole_members(tenant).values_list("pk", flat=True)) if with_users else []
        counts = tenant_footprint(tenant=locked)
        counts["audit_events"] = _audit_events(locked)
        locked.delete()
        if users:
            get_user_model().objects.filter(pk__in=users).delete()
        transaction.on_commit(lambda: delete_stored_files(files))
        transaction.on_commit(lambda: forget_cached_questions(tenant.id))
        logged = _log_deleted(tenant.pk, locked.slug, counts, users_deleted=len(users))
        transaction.on_commit(logged)
    invalidate_key_cache(tenant_id=tenant.id)


def _audit_events(tenant: Tenant) -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.for_tenant(tenant).count()


def _log_deleted(tenant_id: Any, slug: str, counts: dict[str, int], *, users_deleted: int) -> Any:
    """The application log's record of a tenant deletion (its audit log went with it): slug,
    id, who (as an audit event's actor), from where, and what went, as a sentence and, in the
    JSON log, as fields. Made before the commit (the actor is the command's or request's)."""
    import logging

    from audit.context import current_actor

    actor = current_actor()
    counts = {k: v for k, v in counts.items() if k != "users_left_without_tenant"}
    counts["users"] = users_deleted
    fields = {
        "event": "tenant.delete", "tenant_id": str(tenant_id), "tenant_slug": slug,
        "actor_type": actor.type, "actor_id": actor.id, "actor_label": actor.label,
        "via": actor.via, "request_id": actor.request_id, "client_address": actor.client_address,
        "deleted": counts,
    }  # fmt: skip
    what = ", ".join(f"{n} {kind}" for kind, n in counts.items())

    def log() -> None:
        logging.getLogger("audit").warning(
            "tenant %s (%s) deleted by %s via %s: %s",
            slug, tenant_id, actor.label or actor.type, actor.via or "-", what, extra=fields,
        )  # fmt: skip

    return log
