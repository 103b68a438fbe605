"""Several SQL statements in ONE round trip, with server-side binding and prepared statements.

The retrieval engine sends one to four statements per search. Django's
cursor binds parameters client-side (the values are spliced into the SQL text, which PostgreSQL
then parses and plans every time, and a query vector becomes ~7 KB of text). ``run_pipelined``
sends each statement with its parameters bound server-side, prepared once per connection
(psycopg keeps the prepared statements per connection), all in one psycopg pipeline: one
network round trip for the group. Measured on the retrieval benchmark (bench/README.md): raw SQL
p50 2.79 -> 1.73 ms (exact plan) and 4.35 -> 3.00 ms (HNSW plan). (On Django's own connections
the statements were only really prepared from 2026-12-02 on: Django turns psycopg's prepared
statements off, which makes ``prepare=True`` a no-op; settings.py now opens them with a
threshold no ORM query reaches, unless ``DB_PREPARED_STATEMENTS=false``, e.g. behind a
transaction-mode pooler, where nothing is prepared.)

``riding(statement)``: a statement that goes along with the next group of this thread, e.g. the
bot read that confirms a remembered bot while the search that used it runs
(``conversations.selectors.with_bot``).

Not used for the chat writes (``conversations/services.py``): for two small INSERTs, Django's
client-side multi-statement query took ~0.10 ms of client CPU per group and this ~0.2 ms
(psycopg's pipeline machinery is Python); their parameters are small, so there is no large
literal for the server to parse.

``transaction``:
- ``None``: the statements run on their own (autocommit), e.g. one SELECT;
- ``"commit"``: all or nothing (BEGIN .. COMMIT, or a savepoint inside a caller's transaction);
- ``"local"``: read-only statements that need transaction-local settings
  (``set_config(..., true)``): BEGIN .. COMMIT, so the settings end with the group. Inside a
  caller's transaction (Django ``atomic``, tests) a savepoint is used, never COMMIT, and such
  settings last until that transaction ends.
A group never ends with ROLLBACK when it succeeds: psycopg forgets its prepared statements on a
ROLLBACK, and inside a pipeline that once made it reuse a statement the server had already
deallocated ("prepared statement _pg3_65 does not exist", seen in bench/retrieval.py).

Prepared statements outlive schema changes badly: after a restore over a running server, a
migration that alters a column they read, or a type recreated, PostgreSQL refuses them for
good on that connection ("cached plan must not change result type", "cache lookup failed for
type"). ``chatbot_project.pgstale`` recognises those errors, discards the connection's
prepared statements and lets ``run_pipelined`` run the group once more when that is safe.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from django.db import connection
from psycopg.pq import ExecStatus, TransactionStatus

from chatbot_project import pgstale as stale

Statement = tuple[str, list[Any]]
_SAVEPOINT = "chatbot_pipelined"
_WITH_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE)


def run_pipelined(
    raw: psycopg.Connection, statements: list[Statement], *, transaction: str | None = None
) -> list[list[tuple[Any, ...]]]:
    """The rows of each statement (``[]`` for statements without a result). Prepared statements
    gone stale are discarded and the group runs once more when that is safe (``stale``)."""
    if transaction not in (None, "commit", "local"):
        raise ValueError("transaction must be None, 'commit' or 'local'")
    try:
        return _run_once(raw, statements, transaction)
    except psycopg.Error as exc:  # the normal case pays nothing for this (no extra round trip)
        if not stale.recover(raw, exc, statements, atomic=bool(transaction)):
            raise
    return _run_once(raw, statements, transaction)


def _run_once(
    raw: psycopg.Connection, statements: list[Statement], transaction: str | None
) -> list[list[tuple[Any, ...]]]:
    nested = not raw.autocommit  # psycopg begins a transaction by itself: use a savepoint
    begin = f"SAVEPOINT {_SAVEPOINT}" if nested else "BEGIN"
    end = f"RELEASE SAVEPOINT {_SAVEPOINT}" if nested else "COMMIT"
    if len(statements) == 1 and not transaction:  # one statement: no pipeline needed
        cur = psycopg.Cursor(raw)
        cur.execute(*statements[0], prepare=True)
        return [_rows(cur)]
    cursors: list[psycopg.Cursor] = []
    try:
        with raw.pipeline():
            if transaction:
                raw.execute(begin)
            for sql, params in statements:
                cur = psycopg.Cursor(raw)  # not Django's ClientCursor factory
                cur.execute(sql, params, prepare=True)
                cursors.append(cur)
            if transaction:
                raw.execute(end)
    except BaseException:
        if transaction and raw.info.transaction_status != TransactionStatus.IDLE:
            # (a broken connection raises again here: Django's health check then drops it)
            with contextlib.suppress(psycopg.Error):
                raw.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}" if nested else "ROLLBACK")
        raise
    return [_rows(cur) for cur in cursors]


def _rows(cur: psycopg.Cursor) -> list[tuple[Any, ...]]:
    """The statement's rows, ``[]`` for one without a result (an INSERT, a SAVEPOINT). Tested on
    the result's status: ``cur.description`` would build a Column object per column on every
    access (~16% of a chat's retrieval CPU, three statements of eleven columns)."""
    res = cur.pgresult
    if res is None or res.status not in _WITH_ROWS:
        return []
    return cur.fetchall()


class Rider:
    """A statement that rides along the next ``run_on_django_connection`` round trip of this
    thread (see ``riding``); ``rows`` is its result once it went, ``None`` until then."""

    __slots__ = ("rows", "statement")

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self.rows: list[tuple[Any, ...]] | None = None


_riders = threading.local()


@contextlib.contextmanager
def riding(statement: Statement) -> Iterator[Rider]:
    """Send ``statement`` with the next group this thread runs through
    ``run_on_django_connection`` inside the block (appended last, in its transaction if it has
    one), saving a round trip of its own: e.g. re-reading a cached row to confirm it while the
    search that used it runs. If nothing was sent in the block, ``rows`` stays None. Blocks
    nest: every statement pending when a group goes rides with it (in the order they came)."""
    rider = Rider(statement)
    pending: list[Rider] = _riders.__dict__.setdefault("pending", [])
    pending.append(rider)
    try:
        yield rider
    finally:
        if rider in pending:  # never sent
            pending.remove(rider)


def run_on_django_connection(
    statements: list[Statement], *, transaction: str | None = None, prepare_raw: Any = None
) -> list[list[tuple[Any, ...]]]:
    """``run_pipelined`` on this thread's Django connection, with Django's error classes.
    ``prepare_raw(raw)`` may register adapters on the psycopg connection first. The pending
    ``riding`` statements go along (and their rows are not among those returned)."""
    pending: list[Rider] = _riders.__dict__.get("pending", [])
    riders = list(pending)
    pending.clear()
    statements = [*statements, *(r.statement for r in riders)]
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = connection.connection
        if prepare_raw is not None:
            prepare_raw(raw)
        results = run_pipelined(raw, statements, transaction=transaction)
    if riders:
        for rider, rows in zip(riders, results[-len(riders) :], strict=True):
            rider.rows = rows
        del results[-len(riders) :]
    return results
