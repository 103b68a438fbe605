"""Prepared statements gone stale, recognised and discarded (``pgpipe.run_pipelined``).

``pgpipe`` prepares its statements once per long-lived connection. PostgreSQL then refuses
them on that connection, every time, once the objects they were planned against changed:
- ``0A000`` "cached plan must not change result type": a migration altered a column the
  statement returns (e.g. a ``CharField``'s ``max_length``, a type), or a restore
  (``pg_restore --clean``) recreated a table with other columns;
- ``XX000`` "cache lookup failed for type N": a type the statement's parameters were bound to
  was dropped and created again (a restore recreates the pgvector extension, so ``vector``
  gets a new OID and every ``%s::vector`` statement fails);
- ``26000`` invalid_sql_statement_name: psycopg believes a statement prepared that the server
  no longer has (a ``DEALLOCATE``/``DISCARD ALL`` behind its back).
Seen after a restore over a running server: every chat and retrieve answered 500 until a
restart. On such an error ``recover`` clears psycopg's prepared-statement cache and, now, the
server's (``DEALLOCATE ALL``; psycopg itself would only do it after the next statement, and
drop the statements that one prepared), logs one warning, and says whether the group may run
once more: the connection is usable (not in a failed transaction of the caller's) and the
group cannot have changed anything, i.e. every statement only reads, or the group was atomic
(one statement, or a transaction, and it failed, so it was rolled back whole: these errors
come before the statement runs). Otherwise the error goes to the caller, and the connection's
next group prepares afresh.

No client-side type OIDs to refresh here: ``QueryVector`` is sent with OID 0 (the server takes
the type from ``%s::vector``) and no statement returns a vector column. (``pgvector.psycopg``'s
``register_vector`` does cache the OIDs on the connection it registers, but only the benchmarks
call it, on connections of their own.)
"""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

log = logging.getLogger("chatbot.db")

# SQLSTATE -> (the start of the primary message, the server function raising it); None: any.
# Both are checked as well as codes, 0A000 and XX000 standing for unrelated errors too; either
# one matching is enough: a server whose lc_messages is not English translates 0A000's message
# (XX000's is an internal message, never translated), the function's name never changes.
STALE: dict[str, tuple[str, str] | None] = {
    "0A000": ("cached plan must not change result type", "RevalidateCachedQuery"),
    "XX000": ("cache lookup failed for type", ""),
    "26000": None,
}
_READS = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY|CALL|DO)\b", re.IGNORECASE)
_USABLE = (TransactionStatus.IDLE, TransactionStatus.INTRANS)


def is_stale(exc: BaseException) -> bool:
    """Whether ``exc`` says a prepared statement of the connection went stale."""
    if not isinstance(exc, psycopg.Error) or exc.sqlstate not in STALE:
        return False
    known = STALE[exc.sqlstate]
    if known is None:
        return True
    start, function = known
    diag = exc.diag
    return (diag.message_primary or "").startswith(start) or bool(
        function and diag.source_function == function
    )


def reads_only(sql: str) -> bool:
    """A SELECT (or WITH) that writes nothing, judged conservatively on the text: a
    data-modifying CTE, a ``FOR UPDATE`` or a function named like a verb count as writes."""
    return bool(_READS.match(sql)) and not _WRITES.search(sql)


def forget(raw: psycopg.Connection) -> None:
    """Discard the connection's prepared statements, psycopg's and the server's."""
    raw._prepared.clear()  # what psycopg's own rollback() does
    if raw.info.transaction_status in _USABLE:
        raw.execute("DEALLOCATE ALL")  # in a failed transaction: after its rollback (psycopg)


def recover(
    raw: psycopg.Connection, exc: psycopg.Error, statements: list[tuple[str, Any]], *, atomic: bool
) -> bool:
    """For a group that failed with ``exc``: if the error says its prepared statements went
    stale, forget them and return whether the group may run once more (see the docstring);
    False for any other error (untouched)."""
    if not is_stale(exc) or raw.closed:
        return False
    try:
        forget(raw)
    except psycopg.Error:  # a broken connection: Django's health check drops it
        return False
    if raw.info.transaction_status not in _USABLE:
        outcome, retry = "not run again (the caller's transaction failed)", False
    elif atomic or len(statements) == 1 or all(reads_only(sql) for sql, _ in statements):
        outcome, retry = "running the statements again", True
    else:
        outcome, retry = "not run again (some may have written)", False
    log.warning(
        "prepared statements went stale (%s %s): discarded them, %s",
        exc.sqlstate,
        (exc.diag.message_primary or "").strip(),
        outcome,
    )
    return retry
