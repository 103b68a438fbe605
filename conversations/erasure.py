"""Conversation deletions in the audit log (README "Audit log"; chats write no events).

- ``conversations_delete_recorded``: ``DELETE /v1/conversations/{id}`` and the admin's deletes,
  one ``conversation.delete`` per conversation, in the transaction of its delete.
- ``end_user_erase``: ``DELETE /v1/conversations?user=U`` and ``purge_conversations --user U``,
  one ``conversation.erase`` with what went, once the batches are done (a failure part-way
  records what had gone, ``"complete": false``, and the caller's repeat records the rest).
- ``retention_purge``: ``purge_conversations --older-than`` alone, one ``conversation.purge``
  per tenant that lost conversations.

The end user is never stored: ``end_user`` is the keyed hash of ``audit.end_users``. Nor are
titles (a conversation's title is its first question) or message text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet

from audit.end_users import end_user_ref
from audit.services import audit_record
from conversations.models import Conversation, Message
from conversations.services import conversations_delete, conversations_delete_batched
from tenants.models import Tenant

log = logging.getLogger(__name__)


def _ref(tenant_id: Any, user: str) -> str | None:
    return end_user_ref(tenant_id=tenant_id, user=user) if user else None


def conversations_delete_recorded(conversations: QuerySet[Conversation]) -> dict[str, int]:
    """``conversations_delete`` with a ``conversation.delete`` event per conversation (its
    tenant's), in the same transaction: its bot's slug, how many messages went, and the end
    user as ``end_user`` (a keyed hash; null for a chat sent without a user)."""
    with transaction.atomic():
        rows = list(
            conversations.select_for_update()
            .order_by()
            .values_list("pk", "tenant_id", "user", "bot_slug")
        )
        if not rows:
            return {}
        ids = [row[0] for row in rows]
        per_conversation = dict(
            Message.objects.filter(conversation_id__in=ids)
            .order_by()
            .values("conversation_id")
            .annotate(n=Count("pk"))
            .values_list("conversation_id", "n")
        )
        counts = conversations_delete(Conversation.objects.filter(pk__in=ids))
        tenants = Tenant.objects.in_bulk({row[1] for row in rows})
        for pk, tenant_id, user, bot_slug in rows:
            audit_record(
                tenant=tenants[tenant_id], action="conversation.delete", object_id=pk,
                changes={
                    "end_user": _ref(tenant_id, user), "bot": bot_slug,
                    "messages": per_conversation.get(pk, 0),
                },
            )  # fmt: skip
        return counts


def end_user_erase(
    *,
    tenant: Tenant,
    user: str,
    conversations: QuerySet[Conversation],
    cutoff: dt.datetime | None = None,
    restricted: bool = False,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Delete ``conversations`` (end user ``user``'s of ``tenant``; last active before
    ``cutoff`` when given) ``batch`` at a time, then record ``conversation.erase`` with the
    counts, also when nothing was left to delete (the proof that the request was carried out).
    ``restricted``: the credential reached only the conversations of some bots or scopes."""
    deleted = [0, 0]
    changes: dict[str, Any] = {"end_user": end_user_ref(tenant_id=tenant.pk, user=user)}
    if cutoff is not None:
        changes["last_active_before"] = cutoff
    if restricted:
        changes["credential_restricted"] = True
    try:
        conversations_delete_batched(conversations, batch=batch, progress=progress, deleted=deleted)
    except BaseException:
        if deleted[0]:
            _record_after_failure(tenant, "conversation.erase", changes, deleted)
        raise
    _record(tenant, "conversation.erase", changes, deleted, complete=True)
    return deleted[0], deleted[1]


def retention_purge(
    *,
    conversations: QuerySet[Conversation],
    cutoff: dt.datetime,
    older_than: str,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Delete ``conversations`` (idle since before ``cutoff``), tenant by tenant, ``batch`` at a
    time; one ``conversation.purge`` per tenant that lost some, with the counts."""
    total = [0, 0]
    tenant_ids = conversations.order_by().values_list("tenant_id", flat=True).distinct()
    for tenant in Tenant.objects.filter(pk__in=list(tenant_ids)).order_by("slug"):
        deleted = [0, 0]
        changes = {"last_active_before": cutoff, "older_than": older_than}
        try:
            conversations_delete_batched(
                conversations.filter(tenant_id=tenant.pk),
                batch=batch, progress=progress, deleted=deleted,
            )  # fmt: skip
        except BaseException:
            if deleted[0]:
                _record_after_failure(tenant, "conversation.purge", changes, deleted)
            raise
        if deleted[0]:
            _record(tenant, "conversation.purge", changes, deleted, complete=True)
        total[0] += deleted[0]
        total[1] += deleted[1]
    return total[0], total[1]


_LABELS = {
    "conversation.erase": "end user's conversations",
    "conversation.purge": "idle conversations",
}


def _record(
    tenant: Tenant, action: str, changes: dict[str, Any], deleted: list[int], *, complete: bool
) -> None:
    audit_record(
        tenant=tenant, action=action, label=_LABELS[action],
        changes={
            **changes, "conversations": deleted[0], "messages": deleted[1], "complete": complete,
        },
    )  # fmt: skip


def _record_after_failure(
    tenant: Tenant, action: str, changes: dict[str, Any], deleted: list[int]
) -> None:
    """The batches committed before a failure are gone: recorded as incomplete if the database
    still answers, else said in the application log (the failure is raised either way)."""
    try:
        with transaction.atomic():
            _record(tenant, action, changes, deleted, complete=False)
    except Exception:
        log.exception(
            "%s of tenant %s stopped after deleting %d conversation(s) (%d messages) and could "
            "not be recorded in the audit log",
            action, tenant.slug, deleted[0], deleted[1],
        )  # fmt: skip
