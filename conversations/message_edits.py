"""What staff do to single chat messages in the Django admin (``MessageAdmin``), each recorded in
the audit log in the transaction of the change (README "Audit log"). Never a message's text nor
its metadata (the chat client's, which may hold personal data): ids, roles and counts only.

- ``messages_delete_recorded``: the delete page and "Delete selected". The messages' figures go
  to ``UsageArchive`` first (GET /v1/usage keeps counting them, as after a conversation's
  delete), each conversation's ``message_count`` goes down by what it lost, and each
  conversation that lost messages gets one ``message.delete``.
- ``message_save_recorded``: the change page, where ``content`` (to redact personal data from a
  transcript) and ``metadata`` are the editable fields: ``message.redact`` when the text
  changed, else ``message.update``; a save that changed nothing records nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Greatest

from audit.end_users import end_user_ref
from audit.services import MAX_ITEMS, audit_record
from conversations.models import Conversation, Message
from conversations.usage import archive_usage
from tenants.models import Tenant

EDITABLE = ("content", "metadata")  # what MessageAdmin's change form may write


def _end_user(tenant_id: Any, user: str | None) -> str | None:
    """The conversation's end user as the audit log keeps one: a keyed hash (``GET
    /v1/audit?end_user=`` finds these events too), null for a chat sent without a user."""
    return end_user_ref(tenant_id=tenant_id, user=user) if user else None


def _plural(n: int) -> str:
    return f"{n} message" if n == 1 else f"{n} messages"


def messages_delete_recorded(messages: QuerySet[Message]) -> int:
    """Delete ``messages``, keeping their usage and their conversations' counts right, with one
    ``message.delete`` per conversation (its tenant's): the conversation's id (also the event's
    object id) and bot slug, how many messages went and of which roles, their ids (the first
    20) and the conversation's ``message_count`` before and after. Returns how many went.

    The conversations, then the messages, are locked first, so the usage archived is exactly
    that of the rows deleted, and a chat storing an answer meanwhile is not counted away.
    ``message_count`` goes down by, not recounted: a chat inserts the question when it starts
    and counts both turns when the answer is stored, so a recount meanwhile would be one too
    many afterwards."""
    chosen = Message.objects.filter(pk__in=messages.order_by().values("pk"))
    with transaction.atomic():
        conversations = {
            pk: (count, slug, user)
            for pk, count, slug, user in Conversation.objects.select_for_update()
            .filter(pk__in=chosen.values("conversation_id"))
            .order_by("pk")
            .values_list("pk", "message_count", "bot_slug", "user")
        }
        rows = list(
            chosen.select_for_update()
            .order_by("conversation_id", "created_at", "pk")
            .values_list("pk", "tenant_id", "conversation_id", "role")
        )
        if not rows:
            return 0
        gone = Message.objects.filter(pk__in=[row[0] for row in rows])
        archive_usage(gone)
        gone.delete()
        per_conversation: dict[Any, list[tuple]] = {}
        for row in rows:
            per_conversation.setdefault(row[2], []).append(row)
        minus = Case(
            *(When(pk=pk, then=Value(len(lost))) for pk, lost in per_conversation.items()),
            output_field=IntegerField(),
        )
        Conversation.objects.filter(pk__in=per_conversation).update(
            message_count=Greatest(F("message_count") - minus, Value(0))
        )
        _record_deletes(per_conversation, conversations)
        return len(rows)


def _record_deletes(per_conversation: dict[Any, list[tuple]], conversations: dict) -> None:
    after = dict(
        Conversation.objects.filter(pk__in=per_conversation).values_list("pk", "message_count")
    )
    tenants = Tenant.objects.in_bulk({lost[0][1] for lost in per_conversation.values()})
    for pk, lost in per_conversation.items():
        before, bot_slug, user = conversations.get(pk, (None, "", ""))
        audit_record(
            tenant=tenants[lost[0][1]], action="message.delete", object_id=pk,
            label=_plural(len(lost)),
            changes={
                "conversation": str(pk), "bot": bot_slug, "messages": len(lost),
                "roles": dict(Counter(row[3] for row in lost)),
                "message_ids": [str(row[0]) for row in lost[:MAX_ITEMS]],  # the first 20
                "message_count": {"old": before, "new": after.get(pk)},
                "end_user": _end_user(lost[0][1], user),
            },
        )  # fmt: skip


def _same_text(stored: str, posted: str) -> bool:
    """The admin's textarea posts the text back with CRLF line ends and stripped (Django's
    form field): unchanged by the person, not an edit (and not written)."""
    return stored.replace("\r\n", "\n").strip() == posted.replace("\r\n", "\n").strip()


def message_save_recorded(message: Message) -> list[str]:
    """Write the ``EDITABLE`` fields of ``message`` that differ from its stored row (only
    those: the figures a chat writes are never written back from the form) and record
    ``message.redact`` (its text changed) or ``message.update`` (its metadata alone), with
    its conversation, role and ``{"changed": true}`` per field changed. Returns the fields
    written; none when nothing changed (or the message was deleted meanwhile)."""
    with transaction.atomic():
        stored = Message.objects.select_for_update().filter(pk=message.pk).values(*EDITABLE).first()
        if stored is None:
            return []
        changed = [
            name
            for name in EDITABLE
            if not (
                _same_text(stored[name], message.content)
                if name == "content"
                else _same_json(stored[name], getattr(message, name))
            )
        ]
        if not changed:
            return []
        message.save(update_fields=[*changed, "updated_at"])
        audit_record(
            tenant=message.tenant,
            action="message.redact" if "content" in changed else "message.update",
            object_id=message.pk,
            label=f"{message.role} message",  # (never str(message): it starts with the text)
            changes={
                "conversation": str(message.conversation_id),
                "role": message.role,
                "end_user": _end_user(
                    message.tenant_id,
                    Conversation.objects.filter(pk=message.conversation_id)
                    .values_list("user", flat=True)
                    .first(),
                ),
                **{name: {"changed": True} for name in changed},
            },
        )
        return changed


def _same_json(stored: Any, posted: Any) -> bool:
    return json.dumps(stored, sort_keys=True) == json.dumps(posted, sort_keys=True)


def _text_free_name(obj: Any) -> str:
    if isinstance(obj, Message):
        return f"{obj.role} message {obj.pk}"
    return f"{obj._meta.verbose_name} {obj.pk}"


def admin_log_entries(user_id: Any, objects: Iterable[Any], flag: int, change: Any = "") -> None:
    """The admin's own history (``LogEntry``) of messages or conversations, named by type (and
    role) and id: Django names an object by ``str()``, which for a message starts with its text
    and for a conversation is its title (the first question), so a deleted or redacted
    message's words stayed in ``django_admin_log`` (the admin's "Recent actions")."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.bulk_create(
        LogEntry(
            user_id=user_id, content_type_id=ContentType.objects.get_for_model(o).pk,
            object_id=str(o.pk), object_repr=_text_free_name(o), action_flag=flag,
            change_message=json.dumps(change) if isinstance(change, list) else change,
        )
        for o in objects
    )  # fmt: skip
