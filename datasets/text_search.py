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

A configuration dropped on the server after chunks were indexed (``DROP TEXT SEARCH
CONFIGURATION``; nothing in PostgreSQL ties the stored name to it) leaves the stored vectors as
they are, but anything that computes one under that name fails: a keyword or hybrid search
(the question's lexemes), a chunk written or updated (ingestion, a document's PATCH). Each says
so in a sentence naming it (``LanguageMissing``, a 409; ``missing_sentence`` on a failed
document) instead of a 500 or "ingestion failed unexpectedly". A configuration changed in place
(``ALTER TEXT SEARCH CONFIGURATION``, a dictionary replaced) leaves the stored vectors stale
without an error: ``manage.py reindex_text`` re-derives them (``reindex_chunks``), under the
same lock as a language change.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.db import DatabaseError, connection, transaction
from django.db.models import Func

from chatbot_project.errors import APIError

DEFAULT_LANGUAGE = "english"
FUNCTION = "chatbot_chunk_tsvector"

# Han (with 々, the compatibility and extension-B ideographs), Hiragana, Katakana (with ー, the
# phonetic extensions and the half-width forms): the ranges of ``conversations/unspaced.py``,
# as a PostgreSQL regular expression class inside an E'' literal (read the same whatever
# ``standard_conforming_strings`` is).
HAN_KANA_CLASS = (
    r"[\\u3005\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff"
    r"\\uff66-\\uff9f\\U00020000-\\U0002a6df]"
)
# Question words, left out of the bigrams (``unspaced._STOP_BIGRAM_LIST``): "什么是序列化器？"
# is about 序列化器, not about every chunk that asks 什么.
STOP_BIGRAMS = (
    "什么 什麼 怎么 怎麼 怎样 怎樣 如何 哪些 哪个 哪個 为什 為什 多少 是否 "
    "とは 何で なん どう です すか ます"
)


def has_unspaced_sql(column: str) -> str:
    """The SQL test "``column`` holds Han or Kana" (the function's guard, and the migration's
    choice of chunks to re-derive). ASCII text is told by its length alone."""
    return f"(octet_length({column}) <> length({column}) AND {column} ~ E'{HAN_KANA_CLASS}')"


# Text without Han or Kana gets ``to_tsvector(config, body)`` as before: the guard costs ~3%
# of an English chunk's insert (bench/README.md, "Chinese and Japanese keyword search"). Text
# with them: its runs set apart by spaces ("DRF的序列化器" was one token, losing "drf"; a
# segmenting configuration still sees each run whole) plus, under ``simple``, the overlapping
# character bigrams of each run (``BIGRAMS_FUNCTION``). PostgreSQL's parser makes a whole
# Han/Kana run one word, so a question matched only a chunk holding its exact run; bigrams are
# the usual dictionary-free matching for these scripts (as the extractive answerer's,
# ``conversations/unspaced.py``). The question's lexemes are made by this same function
# (``retrieval_sql._keyword_statement``), so its bigrams meet the chunks'.
#
# Both are SQL-standard bodies (``RETURN``): parsed once, at creation, their references bound
# there, so a restore (pg_dump empties the search path) still finds the helper. The bigrams are
# a helper of their own because a sub-select in this function's body is set up on every call,
# Han or not (+12% on English inserts when it was inline).
BIGRAMS_FUNCTION = "chatbot_unspaced_bigrams"
CREATE_BIGRAMS_FUNCTION = (
    f"CREATE OR REPLACE FUNCTION {BIGRAMS_FUNCTION}(body text) RETURNS text "  # noqa: S608
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN ("
    "SELECT coalesce(pg_catalog.string_agg(b.gram, ' '), '') FROM ("
    "SELECT CASE WHEN pg_catalog.length(m.run[1]) = 1 THEN m.run[1] "
    "ELSE pg_catalog.substr(m.run[1], i, 2) END AS gram "
    f"FROM pg_catalog.regexp_matches(body, E'{HAN_KANA_CLASS}+', 'g') AS m(run), "
    "pg_catalog.generate_series(1, greatest(pg_catalog.length(m.run[1]) - 1, 1)) AS i) b "
    f"WHERE b.gram <> ALL ('{{{STOP_BIGRAMS.replace(' ', ',')}}}'::text[]))"
)
DROP_BIGRAMS_FUNCTION = f"DROP FUNCTION IF EXISTS {BIGRAMS_FUNCTION}(text)"
CREATE_FUNCTION = (
    f"CREATE OR REPLACE FUNCTION {FUNCTION}(config text, body text) RETURNS tsvector "
    f"LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN CASE WHEN {has_unspaced_sql('body')} "
    "THEN pg_catalog.to_tsvector(config::pg_catalog.regconfig, pg_catalog.regexp_replace("
    f"body, E'{HAN_KANA_CLASS}+', E' \\\\& ', 'g')) "
    "|| pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, "
    f"{BIGRAMS_FUNCTION}(body)) "
    "ELSE pg_catalog.to_tsvector(config::pg_catalog.regconfig, body) END"
)
# The function of migration 0003 (what 0004 reverts to).
CREATE_FUNCTION_0003 = (
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


def missing_languages(
    *, tenant_id: object = None, dataset_ids: Sequence[object] | None = None
) -> list[tuple[Any, str, str, str]]:
    """(id, name, language, tenant slug) of the datasets (of ``tenant_id``, among
    ``dataset_ids``) whose language is no configuration of the server any more."""
    sql = (  # (constant fragments; the values are parameters)
        "SELECT ds.id, ds.name, ds.language, t.slug FROM datasets_dataset ds "  # noqa: S608
        f"JOIN tenants_tenant t ON t.id = ds.tenant_id WHERE ds.language NOT IN ({_NAMES})"
    )
    params: list[Any] = []
    if tenant_id is not None:
        sql += " AND ds.tenant_id = %s"
        params.append(tenant_id)
    if dataset_ids is not None:
        sql += " AND ds.id = ANY(%s)"
        params.append([uuid.UUID(str(d)) for d in dataset_ids])
    with connection.cursor() as cur:
        cur.execute(sql + " ORDER BY t.slug, ds.name", params)
        return cur.fetchall()


def missing_sentence(language: str, names: Sequence[str], *, what: str, then: str = "") -> str:
    """Why ``what`` cannot be done, and what to do about it."""
    which = ("dataset " if len(names) == 1 else "datasets ") + ", ".join(repr(n) for n in names)
    return (
        f"The text search configuration {language!r} of {which} (its `language`) no "
        f"longer exists on the database server, so {what}. Set the dataset's language to one "
        "the server has (PATCH /v1/datasets/{id} with `language`: its chunks are re-indexed at "
        "once), or have the operator re-create the configuration and run "
        f"`manage.py reindex_text`{then}."
    )


def language_gone(language: str, dataset_name: str) -> str | None:
    """The failed document's sentence if ``language`` is no configuration of the server (its
    chunks cannot be written), else None."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT %s NOT IN ({_NAMES})", [language])
        if not cur.fetchone()[0]:
            return None
    return missing_sentence(
        language, [dataset_name], what="the document's chunks cannot be indexed",
        then="; then re-ingest the document",
    )  # fmt: skip


class LanguageMissing(APIError):
    """A 409: a dataset's configuration was dropped on the server."""

    def __init__(self, rows: Sequence[tuple[Any, str, str, str]], *, what: str) -> None:
        language = rows[0][2]
        names = [r[1] for r in rows if r[2] == language]
        super().__init__(
            missing_sentence(language, names, what=what),
            type="conflict",
            status_code=409,
            details={
                "field": "language",
                "missing": sorted({r[2] for r in rows}),
                "datasets": [str(r[0]) for r in rows],
            },
        )


def raise_if_missing(*, tenant_id: object, dataset_ids: Sequence[object], what: str) -> None:
    """After a statement failed: a ``LanguageMissing`` if that was why (else the caller
    re-raises its error). A query that fails itself (a transaction the error aborted) is no
    answer either way."""
    try:
        rows = missing_languages(tenant_id=tenant_id, dataset_ids=dataset_ids)
    except DatabaseError:
        return
    if rows:
        raise LanguageMissing(rows, what=what)


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


REINDEX_BATCH = 2000


def reindex_chunks(dataset_id: object, after: object = None) -> tuple[int, object]:
    """Recompute the ``search_vector`` of the dataset's next chunks (by id, after ``after``)
    under its configuration as the server defines it now; (chunks done, the last id or None
    when none was left). One transaction per batch, holding the dataset's row FOR UPDATE as a
    language change does (``set_chunks_language``): ingestion workers writing into the dataset
    commit first, and those starting meanwhile wait. The chunks take the dataset's language
    read under that lock (one left behind by anything gets it back)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "SELECT tenant_id, language FROM datasets_dataset WHERE id = %s FOR UPDATE",
            [dataset_id],
        )
        row = cur.fetchone()
        if row is None:
            return 0, None
        tenant_id, language = row
        cur.execute(
            "WITH batch AS (SELECT id FROM datasets_chunk WHERE tenant_id = %s "
            "AND dataset_id = %s AND (%s::uuid IS NULL OR id > %s::uuid) ORDER BY id LIMIT %s) "
            "UPDATE datasets_chunk c SET language = %s FROM batch WHERE c.id = batch.id "
            "RETURNING c.id",
            [tenant_id, dataset_id, after, after, REINDEX_BATCH, language],
        )
        ids = [r[0] for r in cur.fetchall()]
    return len(ids), (max(ids) if ids else None)


def rederive_unspaced_chunks(batch: int = REINDEX_BATCH, after: object = None) -> int:
    """Recompute ``search_vector`` of the chunks holding Han or Kana (migration 0004, after
    the function changed): an UPDATE of their ``language`` to itself, which recomputes the
    stored column, in batches by id, each its own transaction (short row locks; run it outside
    one). Chunks without those characters are only read: an English-only table is scanned,
    not rewritten. Returns the chunks done."""
    sql = (
        "WITH batch AS (SELECT id FROM datasets_chunk WHERE (%s::uuid IS NULL OR "  # noqa: S608
        f"id > %s::uuid) AND {has_unspaced_sql('text')} ORDER BY id LIMIT %s) "
        "UPDATE datasets_chunk c SET language = c.language FROM batch "
        "WHERE c.id = batch.id RETURNING c.id"
    )
    done = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [after, after, batch])
            ids = [r[0] for r in cur.fetchall()]
        if not ids:
            return done
        done += len(ids)
        after = max(ids)
