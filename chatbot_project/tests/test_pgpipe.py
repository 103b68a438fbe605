"""run_pipelined: one round trip, all-or-nothing groups, settings that do not outlive a group,
and a usable connection after an error (autocommit and inside a caller's transaction)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from chatbot_project.pgpipe import run_pipelined

pytestmark = pytest.mark.django_db


def _raw(autocommit: bool) -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=autocommit)


@pytest.mark.parametrize("autocommit", [True, False])
def test_commit_group_is_all_or_nothing(autocommit):
    with _raw(autocommit) as raw:
        raw.execute("CREATE TEMP TABLE pipe_t (id int PRIMARY KEY)")
        if not autocommit:
            raw.commit()
        ok = run_pipelined(
            raw,
            [("INSERT INTO pipe_t VALUES (%s)", [1]), ("SELECT count(*) FROM pipe_t", [])],
            transaction="commit",
        )
        assert ok[-1] == [(1,)]
        with pytest.raises(psycopg.errors.UniqueViolation):
            run_pipelined(
                raw,
                [("INSERT INTO pipe_t VALUES (%s)", [2]), ("INSERT INTO pipe_t VALUES (%s)", [1])],
                transaction="commit",
            )
        # Nothing of the failed group stayed, and the connection still works.
        assert raw.execute("SELECT array_agg(id ORDER BY id) FROM pipe_t").fetchone()[0] == [1]


def test_local_group_keeps_settings_to_the_group_and_prepared_statements_stay_valid():
    """Many local groups and single statements on one connection: the settings never leak
    out of a group and psycopg's prepared statements stay in step with the server's."""
    with _raw(autocommit=True) as raw:
        for i in range(40):
            rows = run_pipelined(
                raw,
                [
                    ("SELECT set_config('enable_sort', 'off', true)", []),
                    ("SELECT current_setting('enable_sort'), %s::int", [i]),
                ],
                transaction="local",
            )
            assert rows[-1] == [("off", i)]
            assert run_pipelined(raw, [("SELECT current_setting('enable_sort'), %s::int", [i])])[
                0
            ] == [("on", i)]
