"""A dataset's text search language: the PostgreSQL text search configuration (``german``,
``french``, ``simple``...) its chunks' ``search_vector`` and the question's keyword lexemes are
made with. ``english`` by default.

Each chunk carries its dataset's ``language`` (a name) and ``search_vector`` is generated from
it by ``chatbot_chunk_tsvector(language, text)`` (migration 0003): ``to_tsvector`` with the name
cast to ``regconfig``. That cast looks the name up, so PostgreSQL deems it only stable and
refuses it in a generated column; the SQL wrapper is declared immutable, as ``to_tsvector
(regconfig, text)`` itself is (both assume a configuration is not redefined under stored
vectors). A ``regconfig`` column would need no wrapper, but ``pg_upgrade`` refuses databases with
one (its OIDs are not kept), which would block in-place major upgrades (RDS and the like).

A change of a dataset's language re-derives its chunks' vectors in the same transaction
(``set_chunks_language``): one UPDATE, no re-chunking nor re-embedding (a reingest would redo
both for the same result). Its dataset row is locked FOR UPDATE first, which waits for the
ingestion workers writing chunks into it (they hold it FOR KEY SHARE and read ``language``
under that lock, ``ingestion._owners_key_share``), and makes those starting later wait for the
commit: no chunk is written with the language being replaced.
"""

from __future__ import annotations

import time

from django.contrib.postgres.search import SearchVectorField
from django.db import connection
from django.db.models import Func

from chatbot_project.errors import APIError

DEFAULT_LANGUAGE = "english"
FUNCTION = "chatbot_chunk_tsvector"

CREATE_FUNCTION = (
    f"CREATE OR REPLACE FUNCTION {FUNCTION}(config text, body text) RETURNS tsvector "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    "AS $$ SELECT pg_catalog.to_tsvector(config::pg_catalog.regconfig, body) $$"
)
DROP_FUNCTION = f"DROP FUNCTION IF EXISTS {FUNCTION}(text, text)"


class ChunkTsvector(Func):
    """``chatbot_chunk_tsvector(language, text)``: the expression of ``Chunk.search_vector``."""

    function = FUNCTION
    output_field = SearchVectorField()


_configs: list[float | frozenset[str]] = [0.0, frozenset()]
CONFIGS_CACHE_SECONDS = 60.0


# The built-in configurations by their names; any other (``CREATE TEXT SEARCH CONFIGURATION``)
# by its schema-qualified name, which resolves whatever the search path: a restore (pg_dump
# empties it) recomputes every chunk's vector from this name.
_NAMES = (
    "SELECT CASE WHEN n.nspname = 'pg_catalog' THEN c.cfgname "
    "ELSE quote_ident(n.nspname) || '.' || quote_ident(c.cfgname) END "
    "FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace"
)


def available_languages(*, fresh: bool = False) -> frozenset[str]:
    """The text search configurations this server has, by the names a dataset's ``language``
    takes. Cached for a minute per process (``fresh``: read again)."""
    now = time.monotonic()
    if _configs[0] > now and not fresh:
        return _configs[1]  # type: ignore[return-value]
    with connection.cursor() as cur:
        cur.execute(_NAMES)
        names = frozenset(row[0] for row in cur.fetchall())
    _configs[:] = [now + CONFIGS_CACHE_SECONDS, names]
    return names


def check_language(value: str) -> str:
    """``value`` if the server has that configuration, else a 400 listing those it has."""
    if value not in available_languages() and value not in available_languages(fresh=True):
        names = ", ".join(sorted(available_languages()))
        raise APIError(
            f"language: {value!r} is not a text search configuration of this server; "
            f"use one of: {names}.",
            details={"field": "language", "available": sorted(available_languages())},
        )
    return value


def set_chunks_language(dataset_id: object, language: str) -> int:
    """Give the dataset's chunks ``language`` (their ``search_vector`` follows); call inside
    the transaction that changes the dataset's language. Returns the chunks changed."""
    with connection.cursor() as cur:
        cur.execute("SELECT tenant_id FROM datasets_dataset WHERE id = %s FOR UPDATE", [dataset_id])
        row = cur.fetchone()
        if row is None:
            return 0
        cur.execute(
            "UPDATE datasets_chunk SET language = %s "
            "WHERE tenant_id = %s AND dataset_id = %s AND language <> %s",
            [language, row[0], dataset_id, language],
        )
        return cur.rowcount
