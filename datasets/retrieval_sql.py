"""The SQL of the retrieval engine (``datasets/retrieval.py``): the filter, the vector and keyword
statements, and running them in one round trip.

Filters, in this order and always inside SQL: tenant, datasets (the bot's ∩ the scope's), the
scope's document tags (``chunk.tags && tags``), documents in use (``ready``, or being
re-ingested with their previous version: ``READABLE``).

Statements (see ../shared/design/RETRIEVAL.md for the measurements behind each choice):
- vector: cosine distance over the 384-d embeddings. The number of candidate rows decides the
  plan explicitly: up to ``EXACT_SCAN_MAX_ROWS`` an exact scan (the distance expression is wrapped
  so the HNSW index cannot be used: exact and ~0.6 ms per 1,000 rows); above, the HNSW index with
  ``hnsw.iterative_scan = relaxed_order`` and an ``ef_search`` sized by the filter's selectivity,
  re-sorted in an outer query (relaxed order may return rows slightly out of order). The default
  HNSW settings return almost nothing for a small tenant behind a filter.
- keyword: PostgreSQL full text, an OR of the question's lexemes (AND matched 2 of 20 dev
  questions), ranked by ``ts_rank`` (beat ``ts_rank_cd`` here). The lexemes are made under each
  text search language of the datasets searched, each set matched against its language's chunks,
  by the function that makes the chunks' vectors (Han and Kana runs also as character bigrams).

Every statement returns ``_COLUMNS`` then its score columns: vector rows the cosine similarity;
keyword rows the share of the question's lexemes the chunk contains, then the similarity (or
NULL without a query vector).
"""

# ruff: noqa: S608 - SQL is assembled from constant fragments; every value is a parameter.
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connection
from django.db.models import Q

from chatbot_project.pgpipe import run_on_django_connection, run_pipelined
from datasets.query_vector import QueryVector, with_query_vectors
from datasets.text_search import FUNCTION

EXACT_SCAN_MAX_ROWS = 4000

# The documents whose chunks are read: ``ready`` ones, and those being re-ingested (``queued``
# or ``processing``) that hold a previous version (``chunk_count`` is only set, with the
# chunks, when a run ends ready). Chunks are replaced in the transaction that sets ``ready``
# (``ingestion._process``), so such a document's chunks are its previous version, complete,
# until that commit: answers keep using it meanwhile instead of losing the document for the
# minutes a large file takes. A first ingestion has no chunks and ``chunk_count`` 0; a
# ``failed`` one is never read; a deleted document takes its chunks with it (cascade).
# Written so the (tenant, status) index still finds them in one scan, as ``status = 'ready'`` did.
READABLE = (
    "d.status IN ('ready', 'queued', 'processing') AND (d.status = 'ready' OR d.chunk_count > 0)"
)
# The same documents as an ORM filter on Document (e.g. ``manage.py reembed``).
READABLE_Q = Q(status="ready") | Q(status__in=["queued", "processing"], chunk_count__gt=0)


@dataclass(frozen=True)
class _Filter:
    tenant_id: str
    dataset_ids: tuple[str, ...]
    tags: tuple[str, ...] | None

    def sql(self, alias: str = "c") -> tuple[str, list[Any]]:
        where = [f"{alias}.tenant_id = %s", f"{alias}.dataset_id = ANY(%s)"]
        tenant = uuid.UUID(self.tenant_id)
        datasets = [uuid.UUID(d) for d in self.dataset_ids]
        params: list[Any] = [tenant, datasets]
        if self.tags:
            where.append(f"{alias}.tags && %s::varchar[]")
            params.append(list(self.tags))
        # Chunks of documents in use: an InitPlan evaluated once, so it stays a plain filter on
        # whichever scan (exact or HNSW) reads the chunks. See ``READABLE``.
        where.append(
            f"{alias}.document_id = ANY(ARRAY(SELECT d.id FROM datasets_document d "
            f"WHERE d.tenant_id = %s AND d.dataset_id = ANY(%s) AND {READABLE}))"
        )
        params += [tenant, datasets]
        return " AND ".join(where), params


# The first nine columns of every result row (``retrieval._chunk`` reads them in this order).
_COLUMNS = (
    "c.id::text, c.document_id::text, c.dataset_id::text, c.text, c.metadata, "
    "d.title, d.source_url, d.original_filename, d.metadata"
)


_counts: dict[_Filter, tuple[float, int]] = {}
COUNT_CACHE_SECONDS = 30.0


def candidate_count(flt: _Filter) -> int:
    """Rows the filter leaves. Cached per process for a few seconds: it only picks the plan
    (exact vs HNSW), never which rows may be returned, so a slightly stale count is harmless."""
    now = time.monotonic()
    hit = _counts.get(flt)
    if hit is not None and hit[0] > now:
        return hit[1]
    where, params = flt.sql()
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM datasets_chunk c WHERE {where}", params)
        count = int(cur.fetchone()[0])
    if len(_counts) > 10_000:
        _counts.clear()
    _counts[flt] = (now + COUNT_CACHE_SECONDS, count)
    return count


_total: list[float] = [0.0, 0.0]  # [expires, rows]


def _total_rows() -> int:
    """The planner's estimate of all chunk rows (for the filter's selectivity), cached."""
    now = time.monotonic()
    if _total[0] > now:
        return int(_total[1])
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'datasets_chunk'")
        row = cur.fetchone()
    _total[:] = [now + COUNT_CACHE_SECONDS, max(int(row[0]) if row else 0, 1)]
    return int(_total[1])


def ef_search_for(candidates: int, total: int, limit: int) -> int:
    """ef_search sized by how selective the filter is (more selective -> wider beam)."""
    selectivity = min(1.0, candidates / max(total, 1))
    if selectivity >= 0.5:
        ef = 100
    elif selectivity >= 0.2:
        ef = 200
    else:
        ef = 400
    return max(ef, limit * 2)


def _vector_statements(
    flt: _Filter, qvec: QueryVector, limit: int, plan: str | None
) -> list[tuple[str, list[Any]]]:
    """The statements of a vector search (its result is the last one's rows)."""
    where, params = flt.sql()
    count = candidate_count(flt) if plan in (None, "hnsw") else 0
    if plan is None:
        plan = "exact" if count <= EXACT_SCAN_MAX_ROWS else "hnsw"
    if plan == "exact":
        # "+ 0" keeps the planner off the HNSW index: an exact, complete ranking. The best
        # rows are picked from the chunks alone and only they are joined to their documents
        # (joining first looked up the document of every candidate row: 3x the time).
        sql = (
            f"SELECT {_COLUMNS}, 1 - s.dist AS sim FROM ("
            "SELECT c.id, (c.embedding <=> %s::vector) + 0 AS dist FROM datasets_chunk c "
            f"WHERE {where} AND c.embedding IS NOT NULL ORDER BY dist LIMIT %s) s "
            "JOIN datasets_chunk c ON c.id = s.id JOIN datasets_document d ON d.id = c.document_id "
            "ORDER BY s.dist LIMIT %s"
        )
        return [(sql, [qvec, *params, limit, limit])]
    ef = ef_search_for(count, _total_rows(), limit)
    sql = (
        f"SELECT {_COLUMNS}, 1 - s.dist AS sim FROM ("
        "SELECT c.id, c.embedding <=> %s::vector AS dist FROM datasets_chunk c "
        f"WHERE {where} ORDER BY c.embedding <=> %s::vector LIMIT %s) s "
        "JOIN datasets_chunk c ON c.id = s.id JOIN datasets_document d ON d.id = c.document_id "
        "ORDER BY s.dist LIMIT %s"
    )
    # Transaction-local settings (see run_statements). The planner
    # underestimates tenant-filtered rows and would sort them instead; with sorting priced out
    # the HNSW index (which returns rows in order) is the plan we chose.
    if plan == "hnsw":
        setup = (
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
            "set_config('hnsw.ef_search', %s, true), set_config('enable_sort', 'off', true)",
            [str(ef)],
        )
    else:  # hnsw_default: the index with pgvector's default settings (benchmark baseline)
        setup = ("SELECT set_config('enable_sort', 'off', true)", [])
    return [setup, (sql, [qvec, *params, qvec, limit, limit])]


def _keyword_statement(
    flt: _Filter, query: str, limit: int, qvec: QueryVector | None, *, for_fusion: bool = False
) -> tuple[str, list[Any]]:
    """``for_fusion``: the keyword list of a hybrid search, ranked by ``ts_rank`` divided by
    1 + log(chunk length) (normalisation 1). Packed sections make chunk lengths vary more, and
    unnormalised, a long chunk ranks high for repeating the question's words, pushing a
    shorter, better chunk down the fused list. Measured on drf-qa-dev (bench/README.md, "Length
    normalisation in the fused keyword list"); keyword mode alone ranks better unnormalised."""
    where, params = flt.sql()
    rank = "ts_rank(c.search_vector, q.tsq, 1)" if for_fusion else "ts_rank(c.search_vector, q.tsq)"
    sim = "1 - (c.embedding <=> %s::vector)" if qvec is not None else "NULL::float"
    sim_params = [qvec] if qvec is not None else []
    # One row of ``q`` per text search language of the datasets searched (tenant first, as
    # everywhere): the question's lexemes under that configuration, matched against the chunks
    # of that language only (``datasets/text_search.py``), whose coverage counts them. Made by
    # the chunks' own function, so a Chinese or Japanese question's bigrams meet theirs.
    sql = (
        "WITH q AS (SELECT g.language, array_agg(l.lexeme) AS lexemes, "
        "string_agg(quote_literal(l.lexeme), ' | ')::tsquery AS tsq "
        "FROM (SELECT DISTINCT ds.language FROM datasets_dataset ds "
        "WHERE ds.tenant_id = %s AND ds.id = ANY(%s)) g, "
        f"unnest({FUNCTION}(g.language, %s)) l GROUP BY g.language), "
        f"hits AS (SELECT c.id, q.language, {rank} AS rank "
        "FROM q JOIN datasets_chunk c ON c.language = q.language "
        f"WHERE c.search_vector @@ q.tsq AND {where} "
        "ORDER BY rank DESC LIMIT %s) "
        f"SELECT {_COLUMNS}, "
        "(SELECT count(*) FROM unnest(tsvector_to_array(c.search_vector)) l "
        " WHERE l = ANY(q.lexemes))::float / greatest(cardinality(q.lexemes), 1) AS coverage, "
        f"{sim} AS sim "
        "FROM hits h JOIN datasets_chunk c ON c.id = h.id "
        "JOIN datasets_document d ON d.id = c.document_id JOIN q ON q.language = h.language "
        "ORDER BY h.rank DESC, c.id"
    )
    return sql, [*params[:2], query, *params, limit, *sim_params]


def _similarity_statement(qvec: QueryVector, chunk_ids: list[str]) -> tuple[str, list[Any]]:
    """(chunk id, cosine similarity) of the given chunks: the keyword hits' similarities when
    the keyword search ran before the query vector was known."""
    return (
        "SELECT c.id::text, 1 - (c.embedding <=> %s::vector) FROM datasets_chunk c "
        "WHERE c.id = ANY(%s)",
        [qvec, [uuid.UUID(cid) for cid in chunk_ids]],
    )


_SETUP = "SELECT set_config("


def run_statements(
    raw: psycopg.Connection, statements: list[tuple[str, list[Any]]]
) -> list[list[tuple[Any, ...]]]:
    """The rows of each statement, in one round trip with server-side binding and prepared
    statements (``chatbot_project.pgpipe``). A leading ``set_config(..., true)`` makes the group
    one transaction, so the settings hold for exactly these statements."""
    with_query_vectors(raw)
    setup = statements[0][0].startswith(_SETUP)
    return run_pipelined(raw, statements, transaction="local" if setup else None)


def _run(statements: list[tuple[str, list[Any]]]) -> list[list[tuple[Any, ...]]]:
    """``run_statements`` on this thread's Django connection, errors as Django's."""
    setup = statements[0][0].startswith(_SETUP)
    return run_on_django_connection(
        statements, transaction="local" if setup else None, prepare_raw=with_query_vectors
    )
