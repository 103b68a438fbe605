"""`/v1/health/ready` is not ready while the database lacks this code's migrations.

Found walking the README against a fresh `DATABASE_URL`: before `manage.py migrate` the probe
answered 200 `"ok"` for the database while every API request failed (a 500, relation does not
exist), so a load balancer sent traffic to a server that could serve none of it."""

from __future__ import annotations

import pytest
from django.db import connection

from chatbot_project import health

pytestmark = pytest.mark.django_db


def _database_check(client) -> dict:
    return client.get("/v1/health/ready").json()["checks"]["database"]


def test_a_migrated_database_is_ready(client):
    assert _database_check(client)["ok"] is True


def test_a_missing_migration_makes_the_database_check_fail(client):
    app, name = health._latest_migrations()[-1]
    with connection.cursor() as cur:  # rolled back with the test's transaction
        cur.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", [app, name])
    res = client.get("/v1/health/ready")
    assert res.status_code == 503
    check = res.json()["checks"]["database"]
    assert check["ok"] is False
    assert check["error"] == (
        "the database schema is older than this code; run `manage.py migrate`"
    )
    assert name not in res.content.decode()  # unauthenticated: no migration names


def test_an_unmigrated_database_is_not_ready(client):
    with connection.cursor() as cur:
        cur.execute("ALTER TABLE django_migrations RENAME TO django_migrations_away")
    try:
        assert _database_check(client)["ok"] is False
    finally:
        with connection.cursor() as cur:
            cur.execute("ALTER TABLE django_migrations_away RENAME TO django_migrations")
