"""Reads of the audit log: one tenant's events, newest first, filtered."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from audit.end_users import end_user_refs
from audit.models import AuditEvent
from tenants.models import Tenant


def audit_event_list(
    *,
    tenant: Tenant,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    end_user: str | None = None,
) -> QuerySet[AuditEvent]:
    """``actor`` matches the actor's id (a user id, a key id) or label (a username, a key
    prefix, ``cli:<os user>``); ``action`` a whole action or, ending in ``.``, its type's;
    ``end_user`` an end-user id (as sent with the chats), through its keyed hash in the
    conversation and message events' ``changes`` (``audit.end_users``), never stored itself."""
    qs = AuditEvent.objects.for_tenant(tenant)
    if end_user:
        refs = end_user_refs(tenant_id=tenant.pk, user=end_user)
        qs = qs.filter(object_type__in=("conversation", "message"), changes__end_user__in=refs)
    if action:
        qs = (
            qs.filter(action__startswith=action)
            if action.endswith(".")
            else qs.filter(action=action)
        )
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor:
        qs = qs.filter(
            Q(actor_id=actor) | Q(actor_label=actor) | Q(actor_label__startswith=f"{actor} (")
        )
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs.order_by("-created_at", "-id")
