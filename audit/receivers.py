"""Signal receivers of the audit log (connected in ``audit.apps``)."""

from __future__ import annotations

from typing import Any


def document_created(sender: Any, instance: Any, created: bool, raw: bool = False, **kw) -> None:
    """A document inserted (posted through the API, ``manage.py ingest``, ``seed_demo``):
    recorded inside the transaction of its insert. A failed one posted again is re-queued
    with an update, not inserted: not a creation."""
    if not created or raw:
        return
    from audit.services import audit_record

    audit_record(
        tenant=instance.tenant,
        action="document.create",
        obj=instance,
        label=instance.title,
        changes={
            "dataset": str(instance.dataset_id),
            "source_type": instance.source_type,
            "source_url": instance.source_url[:200],
            "original_filename": instance.original_filename[:200],
            "tags": list(instance.tags or ()),
        },
    )
