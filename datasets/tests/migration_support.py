"""Moving the test database to a migration state and back (the datasets migration tests)."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str]]):
    """Migrate to ``targets`` and return that state's apps (historical models)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """Back to every app's newest migration (a migration test's clean-up)."""
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())


def seed_chunks(apps, texts: list[str]):
    """A tenant, dataset and ready document with a chunk per text, through the historical
    models of ``apps``; returns the dataset."""
    tenant = apps.get_model("tenants", "Tenant").objects.create(slug="acme", name="Acme")
    dataset = apps.get_model("datasets", "Dataset").objects.create(tenant=tenant, name="D")
    doc = apps.get_model("datasets", "Document").objects.create(
        tenant=tenant, dataset=dataset, title="T", source_type="text", status="ready",
        content_hash="0" * 64, chunk_count=len(texts),
    )  # fmt: skip
    for i, text in enumerate(texts):
        apps.get_model("datasets", "Chunk").objects.create(
            tenant=tenant, document=doc, dataset=dataset, index=i, text=text
        )
    return dataset
