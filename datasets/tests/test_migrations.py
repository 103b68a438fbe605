"""datasets' data migration 0002: documents whose re-ingest failed before commit 76f43ca (left
`failed` with the previous version's chunks, which retrieval no longer read) get the shape such a
failure has since: `ready` with the previous version in use and the error saying so. Only
unambiguous ones: a reason, and chunks that are one complete version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("datasets", "0001_initial")]
AFTER = [("datasets", "0002_keep_previous_version_of_failed_reingests")]
MISSING = "The stored file is missing; post the document again."


def _migrate(targets: list[tuple[str, str]] | None = None):
    """Migrate to ``targets`` (default: every app's latest) and return those models."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_failed_reingests_with_a_complete_previous_version_become_ready_with_the_reason():
    try:
        old = _migrate(BEFORE)
        tenant = old.get_model("tenants", "Tenant").objects.create(slug="acme", name="Acme")
        dataset = old.get_model("datasets", "Dataset").objects.create(tenant=tenant, name="D")
        document = old.get_model("datasets", "Document")
        chunk = old.get_model("datasets", "Chunk")
        failed_at = timezone.now() + timedelta(days=3)  # the old failure overwrote processed_at

        def doc(name, *, status="failed", error=MISSING, chunk_count=0, indexes=()):
            row = document.objects.create(
                tenant=tenant, dataset=dataset, title=name, content_hash=name, status=status,
                error=error, chunk_count=chunk_count, processed_at=failed_at, page_count=4,
            )  # fmt: skip
            for i in indexes:
                chunk.objects.create(
                    tenant=tenant, document=row, dataset=dataset, index=i, text=f"{name} {i}"
                )
            return row.id

        stale = doc("stale", chunk_count=2, indexes=(0, 1))
        untouched = {
            doc("never ingested"): ("failed", MISSING),
            doc("incomplete", chunk_count=3, indexes=(0, 1)): ("failed", MISSING),
            doc("gap", chunk_count=2, indexes=(0, 5)): ("failed", MISSING),
            doc("no reason", error="", chunk_count=1, indexes=(0,)): ("failed", ""),
            doc("ready", status="ready", error="", chunk_count=1, indexes=(0,)): ("ready", ""),
        }
        made = max(chunk.objects.filter(document_id=stale).values_list("created_at", flat=True))

        new = _migrate(AFTER)
        document = new.get_model("datasets", "Document")
        row = document.objects.get(pk=stale)
        assert (row.status, row.progress, row.chunk_count, row.page_count) == ("ready", 1.0, 2, 4)
        assert row.error == (
            f"Re-ingesting failed; answers still use the previous version (2 chunks). "
            f"Reason: {MISSING}"
        )
        assert row.processed_at == made  # the version in use, not the failure
        for doc_id, (status, error) in untouched.items():
            row = document.objects.get(pk=doc_id)
            assert (row.status, row.error, row.processed_at) == (status, error, failed_at)
        assert new.get_model("datasets", "Chunk").objects.count() == 8  # chunks are never touched
    finally:
        _migrate()
