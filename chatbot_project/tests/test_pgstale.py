"""Prepared statements gone stale (chatbot_project/pgstale.py): after a schema change made by
another connection (a migration, a restore over a running server), the connection's next
group still answers, read-only groups run again, and a group that may have written does not."""

from __future__ import annotations

import logging

import psycopg
import pytest
from django.db import connection

from chatbot_project.pgpipe import run_pipelined
from chatbot_project.pgstale import reads_only

pytestmark = pytest.mark.django_db
SELECT = ("SELECT s FROM pgstale_t.t WHERE id = %s", [1])


def _raw(autocommit: bool = True) -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    raw = psycopg.connect(**params, autocommit=autocommit)
    raw.prepare_threshold = 2**31 - 1  # as settings.py opens Django's (DB_PREPARED_STATEMENTS)
    return raw


@pytest.fixture
def other():
    """Another connection, which owns a scratch schema and changes it."""
    with _raw() as other:
        other.execute("DROP SCHEMA IF EXISTS pgstale_t CASCADE")
        other.execute("CREATE SCHEMA pgstale_t")
        other.execute("CREATE TABLE pgstale_t.t (id int, s varchar(10))")
        other.execute("INSERT INTO pgstale_t.t VALUES (1, 'one')")
        other.execute("CREATE TYPE pgstale_t.label AS ENUM ('a', 'b')")
        yield other
        other.execute("DROP SCHEMA pgstale_t CASCADE")


def _alter(other: psycopg.Connection) -> None:  # a migration: CharField max_length 10 -> 20
    other.execute("ALTER TABLE pgstale_t.t ALTER COLUMN s TYPE varchar(20)")


@pytest.mark.parametrize(
    ("statements", "transaction"),
    [
        ([SELECT], None),
        ([SELECT, ("SELECT %s::int", [2])], None),
        ([("SELECT set_config('enable_sort', 'off', true)", []), SELECT], "local"),
    ],
    ids=["one", "several", "local"],
)
def test_a_read_survives_a_column_type_change(other, caplog, statements, transaction):
    with _raw() as raw:
        first = run_pipelined(raw, statements, transaction=transaction)
        _alter(other)
        with caplog.at_level(logging.WARNING, logger="chatbot.db"):
            assert run_pipelined(raw, statements, transaction=transaction) == first
            assert run_pipelined(raw, statements, transaction=transaction) == first
        # one warning line, once (psycopg may add its own "error ignored terminating
        # <Pipeline [INERROR]>" for the aborted group: not ours, left out)
        [record] = [r for r in caplog.records if r.name == "chatbot.db"]
        assert "cached plan must not change result type" in record.getMessage()
        assert "running the statements again" in record.getMessage()
        # psycopg's statements and the server's are in step again
        names = raw.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0]
        assert names == len(raw._prepared._names) == len(statements)


def test_a_type_recreated_with_a_new_oid(other):
    """What a restore does to pgvector's ``vector``: the type a parameter was bound to is gone
    ("cache lookup failed for type")."""
    statement = ("SELECT %s::pgstale_t.label::text", ["a"])
    with _raw() as raw:
        assert run_pipelined(raw, [statement]) == [[("a",)]]
        other.execute("DROP TYPE pgstale_t.label")
        other.execute("CREATE TYPE pgstale_t.label AS ENUM ('a', 'b')")
        assert run_pipelined(raw, [statement]) == [[("a",)]]


def test_statements_deallocated_behind_psycopgs_back(other):
    with _raw() as raw:
        run_pipelined(raw, [SELECT])
        raw.pgconn.exec_(b"DEALLOCATE ALL")  # psycopg does not see this one
        assert run_pipelined(raw, [SELECT]) == [[("one",)]]


def test_a_group_that_may_have_written_is_not_run_again(other, caplog):
    """Two statements outside a transaction, one an INSERT: the error goes to the caller (the
    INSERT may have been committed), and the next group works."""
    group = [("INSERT INTO pgstale_t.t VALUES (%s, 'two')", [2]), SELECT]
    with _raw() as raw:
        run_pipelined(raw, group)
        _alter(other)
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            run_pipelined(raw, group)
        assert "not run again" in caplog.text
        inserted = other.execute("SELECT count(*) FROM pgstale_t.t WHERE id = 2").fetchone()[0]
        assert run_pipelined(raw, group)[1] == [("one",)]
        assert other.execute("SELECT count(*) FROM pgstale_t.t WHERE id = 2").fetchone()[0] == (
            inserted + 1
        )


def test_an_atomic_write_group_runs_again(other):
    """A transaction group failed whole (rolled back): running it again writes it once."""
    group = [("INSERT INTO pgstale_t.t VALUES (%s, 'two')", [2]), SELECT]
    with _raw() as raw:
        run_pipelined(raw, group, transaction="commit")
        _alter(other)
        assert run_pipelined(raw, group, transaction="commit")[1] == [("one",)]
    assert other.execute("SELECT count(*) FROM pgstale_t.t WHERE id = 2").fetchone()[0] == 2


def test_inside_a_failed_caller_transaction_the_error_goes_to_the_caller(other):
    with _raw(autocommit=False) as raw:
        run_pipelined(raw, [SELECT])
        raw.commit()
        _alter(other)
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            run_pipelined(raw, [SELECT])  # the caller's transaction is aborted: no retry
        raw.rollback()
        assert run_pipelined(raw, [SELECT]) == [[("one",)]]


def test_other_errors_are_left_alone(other):
    with _raw() as raw:
        run_pipelined(raw, [SELECT])
        with pytest.raises(psycopg.errors.DivisionByZero):
            run_pipelined(raw, [("SELECT 1 / %s", [0])])
        assert len(raw._prepared._names) == 1  # nothing discarded


def test_reads_only():
    assert reads_only("SELECT c.updated_at FROM t")
    assert reads_only("  with q AS (SELECT 1) SELECT * FROM q")
    assert not reads_only("WITH d AS (DELETE FROM t RETURNING id) SELECT * FROM d")
    assert not reads_only("SELECT * FROM t FOR UPDATE")
    assert not reads_only("INSERT INTO t VALUES (1)")


def test_the_vector_extension_recreated(other):
    """A restore's ``--clean`` recreates pgvector: ``vector`` gets a new OID. In a scratch
    database (the test database's extension stays): the engine's query-vector statement, with
    a parameter bound to the old type, answers again."""
    from datasets.query_vector import QueryVector, with_query_vectors

    name = f"{connection.settings_dict['NAME']}_pgstale"
    other.execute(f'DROP DATABASE IF EXISTS "{name}"')
    other.execute(f'CREATE DATABASE "{name}"')
    try:
        params = {**connection.get_connection_params(), "dbname": name}
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with (
            psycopg.connect(**params, autocommit=True) as admin,
            psycopg.connect(**params, autocommit=True) as raw,  # prepare_threshold set
        ):
            with_query_vectors(raw)
            schema = "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE v (e vector(2));"
            admin.execute(schema + "INSERT INTO v VALUES ('[1,0]')")
            statement = ("SELECT 1 - (e <=> %s::vector) FROM v", [QueryVector([1.0, 0.0])])
            assert run_pipelined(raw, [statement]) == [[(1.0,)]]
            admin.execute("DROP EXTENSION vector CASCADE; DROP TABLE v")
            admin.execute(schema + "INSERT INTO v VALUES ('[1,0]')")
            assert run_pipelined(raw, [statement]) == [[(1.0,)]]
    finally:
        other.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Translated(psycopg.errors.FeatureNotSupported):
    """The 0A000 a server with ``lc_messages = 'de_DE'`` sends: its message translated, the
    raising function's name as ever (this machine's PostgreSQL has no translations to test
    with, so the real error's diagnostics are copied with the German message put in)."""

    def __init__(self, real: psycopg.Error) -> None:
        super().__init__("Plan im Cache darf den Ergebnistyp nicht ändern")
        self._real = real

    @property
    def diag(self):  # type: ignore[override]
        real = self._real.diag
        return type("Diag", (), {
            "message_primary": "Plan im Cache darf den Ergebnistyp nicht ändern",
            "source_function": real.source_function,
        })()  # fmt: skip


def test_a_translated_stale_plan_message_is_still_recognised(other):
    from chatbot_project.pgstale import is_stale

    with _raw() as raw:
        run_pipelined(raw, [SELECT])
        _alter(other)
        with pytest.raises(psycopg.errors.FeatureNotSupported) as caught:
            raw.execute(*SELECT, prepare=True)  # the stale statement, without the recovery
    real = caught.value
    assert real.diag.source_function == "RevalidateCachedQuery"
    assert is_stale(real)
    assert is_stale(_Translated(real))
    unrelated = psycopg.errors.FeatureNotSupported("something else")
    assert not is_stale(unrelated)
