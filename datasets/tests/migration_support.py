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
