"""POST /v1/retrieve after a schema change under a running server (a migration altering a
column the prepared retrieval statements return; a restore does the same and more): the next
request answers 200 with the same results, no restart (chatbot_project/pgstale.py). Before, it
answered 500 "cached plan must not change result type" until the process restarted."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from conversations.tests.test_fastlane import Q, _asgi, _django, _post

# Autocommit, like the servers' connections: the other connection's ALTER must not wait for
# a test transaction's locks.
pytestmark = pytest.mark.django_db(transaction=True)
ALTER = "ALTER TABLE datasets_document ALTER COLUMN title TYPE varchar({})"


@pytest.fixture
def migrate():
    """Another connection altering datasets_document.title (max_length 500 -> 600), put back."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        yield lambda: other.execute(ALTER.format(600))
        other.execute(ALTER.format(500))


@pytest.mark.parametrize("lane", ["fast lane", "django"])
@pytest.mark.parametrize("mode", ["vector", "keyword", "hybrid"])
def test_retrieve_answers_after_a_column_changed_type(kb, make_key, migrate, lane, mode):
    key = make_key(kb.tenant)
    app = _asgi() if lane == "fast lane" else _django()
    payload = {"bot": "helper", "query": Q, "mode": mode}
    before = [_post(key, payload, app) for _ in range(2)][-1]  # prepared by now
    assert before.status_code == 200, before.text
    assert before.json()["data"]
    migrate()
    after = _post(key, payload, app)
    assert after.status_code == 200, after.text
    assert after.json()["data"] == before.json()["data"]
