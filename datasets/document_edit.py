"""``PATCH /v1/documents/{id}``: a document's title, tags and metadata, changed in place.

Re-posting the same content answers with the existing document unchanged (API.md's
deduplication), so before this route a document tagged wrongly had to be deleted and uploaded
again (extracted and embedded again) to change who may read it.

Tags are access control: a scope's ``document_tags`` filter reads the tags copied onto each
chunk (``retrieval_sql``), so the chunks take the new tags in the same transaction as the
document, and the worker writes a run's chunks with the tags of the document row it has locked
(``ingestion``), not of the row it read when it started: a PATCH during an ingestion is not
undone by it. The title is shown in citations and lists at once; the chunks' text starts with
the title it was extracted under, so it changes there on the next re-ingest
(``POST /v1/documents/{id}/reingest``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit.services import audit_record, diff, snapshot
from chatbot_project.errors import NotFound
from datasets.document_input import clean_metadata, clean_tags
from datasets.models import Chunk, Document
from tenants.models import Tenant

EDITABLE = ("title", "tags", "metadata")


@transaction.atomic
def document_update(*, tenant: Tenant, document: Document, **fields: Any) -> Document:
    """Apply ``fields`` (any of ``EDITABLE``, validated by the API's serializer) to the
    document as it is now, locked; a document deleted meanwhile is a 404."""
    assert document.tenant_id == tenant.id
    assert set(fields) <= set(EDITABLE), fields
    locked = Document.objects.locked_row(tenant, document.pk)
    if locked is None:
        raise NotFound()
    before = snapshot(locked, EDITABLE)
    changed = []
    if "title" in fields:
        locked.title = fields["title"].strip()[:500]
        changed.append("title")
    if "metadata" in fields:
        locked.metadata = clean_metadata(fields["metadata"])
        changed.append("metadata")
    if "tags" in fields:
        tags = clean_tags(fields["tags"])
        if tags != list(locked.tags):
            Chunk.objects.filter(document_id=locked.pk).update(tags=tags)
        locked.tags = tags
        changed.append("tags")
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    changes = diff(before, snapshot(locked, EDITABLE))
    if changes:
        audit_record(
            tenant=tenant, action="document.update", obj=locked, label=locked.title, changes=changes
        )
    return locked


def document_retry_record(*, document: Document, before: dict[str, Any]) -> None:
    """Record ``document.retry``: a failed ``document`` queued again by posting its content
    again (``document_services``), in the caller's transaction. ``before``: its values when it
    had failed (the fields the post replaces, ``status``, ``error``); the error is kept to its
    first 200 characters, a new stored file as changed only."""
    before = {**before, "error": (before.get("error") or "")[:200]}
    audit_record(
        tenant=document.tenant, action="document.retry", obj=document, label=document.title,
        changes=diff(before, snapshot(document, before)),
    )  # fmt: skip
