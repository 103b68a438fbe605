"""The retrieval engine: tenant-filtered vector, keyword and hybrid search over chunks.

Filters, in this order and always inside SQL: tenant, datasets (the bot's ∩ the scope's), the
scope's document tags (``chunk.tags && tags``), documents in use (``ready``, or being
re-ingested with their previous version: ``READABLE``).

Modes (see ../shared/design/RETRIEVAL.md for the measurements behind each choice):
- ``vector``: cosine distance over the 384-d embeddings. The number of candidate rows decides the
  plan explicitly: up to ``EXACT_SCAN_MAX_ROWS`` an exact scan (the distance expression is wrapped
  so the HNSW index cannot be used: exact and ~0.6 ms per 1,000 rows); above, the HNSW index with
  ``hnsw.iterative_scan = relaxed_order`` and an ``ef_search`` sized by the filter's selectivity,
  re-sorted in an outer query (relaxed order may return rows slightly out of order). The default
  HNSW settings return almost nothing for a small tenant behind a filter.
- ``keyword``: PostgreSQL full text, an OR of the question's lexemes (AND matched 2 of 20 dev
  questions), ranked by ``ts_rank`` (beat ``ts_rank_cd`` here).
- ``hybrid``: reciprocal rank fusion (k = 60) of both lists.

Scores, all in 0..1, are what ``score_threshold`` applies to:
- ``vector`` and ``hybrid``: the cosine similarity of the chunk to the question (clamped at 0). In
  hybrid mode the order is the fused rank, the threshold still means "semantically at least this
  close", so ``require_grounding`` refuses off-topic questions even when a stray word matches.
- ``keyword``: the share of the question's lexemes the chunk contains.
Every result also carries ``scores`` ({"vector", "keyword", "rrf"}) for debugging and benchmarks.
"""

# ruff: noqa: S608 - SQL is assembled from constant fragments; every value is a parameter.
from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from django.db import connection

from chatbot_project.pgpipe import run_on_django_connection, run_pipelined
from datasets.query_embeddings import embed_query_cached
from datasets.query_vector import QueryVector, with_query_vectors

log = logging.getLogger("chatbot.retrieval")

MODES = ("vector", "keyword", "hybrid")
RRF_K = 60
EXACT_SCAN_MAX_ROWS = 4000


@dataclass
class RetrievedChunk:
    chunk_id: str
    document_id: str
    document_title: str
    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)
    dataset_id: str = ""
    source: str = ""
    scores: dict[str, float | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


# --------------------------------------------------------------------------- SQL
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
    flt: _Filter, query: str, limit: int, qvec: QueryVector | None
) -> tuple[str, list[Any]]:
    where, params = flt.sql()
    sim = "1 - (c.embedding <=> %s::vector)" if qvec is not None else "NULL::float"
    sim_params = [qvec] if qvec is not None else []
    sql = (
        "WITH q AS (SELECT array_agg(lexeme) AS lexemes, "
        "string_agg(quote_literal(lexeme), ' | ')::tsquery AS tsq "
        "FROM unnest(to_tsvector('english', %s))), "
        "hits AS (SELECT c.id, ts_rank(c.search_vector, q.tsq) AS rank "
        "FROM datasets_chunk c, q WHERE q.tsq IS NOT NULL AND c.search_vector @@ q.tsq "
        f"AND {where} "
        "ORDER BY rank DESC LIMIT %s) "
        f"SELECT {_COLUMNS}, "
        "(SELECT count(*) FROM unnest(tsvector_to_array(c.search_vector)) l "
        " WHERE l = ANY(q.lexemes))::float / greatest(cardinality(q.lexemes), 1) AS coverage, "
        f"{sim} AS sim "
        "FROM hits h JOIN datasets_chunk c ON c.id = h.id "
        "JOIN datasets_document d ON d.id = c.document_id CROSS JOIN q "
        "ORDER BY h.rank DESC, c.id"
    )
    return sql, [query, *params, limit, *sim_params]


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


def vector_search(
    flt: _Filter, vec: Sequence[float], limit: int, *, plan: str | None = None
) -> list[tuple[Any, ...]]:
    """Rows (columns..., similarity) best first.

    ``plan`` forces "exact", "hnsw" or "hnsw_default" (no iterative scan: the benchmark's
    baseline); by default the candidate row count decides.
    """
    return _run(_vector_statements(flt, QueryVector(vec), limit, plan))[-1]


def keyword_search(
    flt: _Filter, query: str, limit: int, vec: Sequence[float] | None
) -> list[tuple[Any, ...]]:
    """Rows (columns..., coverage, similarity|None) ranked by ts_rank over an OR of lexemes."""
    qvec = QueryVector(vec) if vec is not None else None
    return _run([_keyword_statement(flt, query, limit, qvec)])[-1]


def hybrid_search(
    flt: _Filter, query: str, vec: Sequence[float] | Future, pool: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The vector and keyword pools of a hybrid search, in one round trip. ``vec`` may be a
    Future of the vector still being computed (a new question's embedding): then the keyword
    search goes first, while it computes, and the keyword hits' similarities come back with
    the vector search (same expression, same values): only that round trip waits for it."""
    if isinstance(vec, Future) and not vec.done():
        krows = _run([_keyword_statement(flt, query, pool, None)])[-1]
        qvec = QueryVector(vec.result())
        statements = _vector_statements(flt, qvec, pool, None)
        statements.append(
            (
                "SELECT c.id::text, 1 - (c.embedding <=> %s::vector) FROM datasets_chunk c "
                "WHERE c.id = ANY(%s)",
                [qvec, [uuid.UUID(r[0]) for r in krows]],
            )
        )
        results = _run(statements)
        sims = dict(results[-1])
        return results[-2], [(*r[:10], sims.get(r[0])) for r in krows]
    qvec = QueryVector(vec.result() if isinstance(vec, Future) else vec)
    statements = _vector_statements(flt, qvec, pool, None)
    statements.append(_keyword_statement(flt, query, pool, qvec))
    results = _run(statements)
    return results[-2], results[-1]


def _chunk(row: Sequence[Any], score: float, scores: dict[str, float | None]) -> RetrievedChunk:
    cid, doc_id, ds_id, text, meta, title, url, filename, doc_meta = row[:9]
    meta, doc_meta = _json(meta), _json(doc_meta)
    return RetrievedChunk(
        chunk_id=cid,
        document_id=doc_id,
        document_title=title or filename or "",
        text=text,
        score=round(max(0.0, min(1.0, float(score))), 6),
        metadata=meta or {},
        dataset_id=ds_id,
        source=url or (doc_meta or {}).get("source", "") or filename or title or "",
        scores=scores,
    )


# --------------------------------------------------------------------------- entry points
def retrieve(
    *,
    tenant: Any,
    query: str,
    dataset_ids: Sequence[Any],
    scope: Any = None,
    top_k: int = 5,
    mode: str = "hybrid",
    score_threshold: float = 0.0,
    query_vector: Sequence[float] | Future | None = None,
) -> list[RetrievedChunk]:
    """Best chunks for ``query`` visible to ``tenant`` through ``dataset_ids`` (and ``scope``).
    ``query_vector``: the query's embedding, or a Future of it (see ``hybrid_search``)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    ids = {str(d) for d in dataset_ids}
    tags: list[str] | None = None
    if scope is not None:
        ids &= {str(d) for d in scope_dataset_ids(scope)} if scope_restricts(scope) else ids
        tags = list(scope.document_tags) or None
    query = (query or "").strip()
    if not ids or not query or top_k <= 0:
        return []
    flt = _Filter(
        tenant_id=str(tenant.id), dataset_ids=tuple(sorted(ids)), tags=tuple(tags) if tags else None
    )
    pool = max(top_k * 4, 20)

    vec: Sequence[float] | Future | None = None
    if mode in ("vector", "hybrid"):
        vec = query_vector if query_vector is not None else embed_query_cached(query)
        if mode == "vector" and isinstance(vec, Future):
            vec = vec.result()

    if mode == "vector":
        rows = vector_search(flt, vec, top_k)  # type: ignore[arg-type]
        out = [_chunk(r, r[9], {"vector": float(r[9]), "keyword": None, "rrf": None}) for r in rows]
    elif mode == "keyword":
        rows = keyword_search(flt, query, top_k, None)
        out = [_chunk(r, r[9], {"vector": None, "keyword": float(r[9]), "rrf": None}) for r in rows]
    else:
        vrows, krows = hybrid_search(flt, query, vec, pool)  # type: ignore[arg-type]
        fused: dict[str, dict[str, Any]] = {}
        for rank, r in enumerate(vrows, 1):
            fused[r[0]] = {"row": r, "rrf": 1 / (RRF_K + rank), "vector": float(r[9]), "kw": None}
        for rank, r in enumerate(krows, 1):
            item = fused.setdefault(r[0], {"row": r, "rrf": 0.0, "vector": _f(r[10]), "kw": None})
            item["rrf"] += 1 / (RRF_K + rank)
            item["kw"] = float(r[9])
        ranked = sorted(fused.values(), key=lambda i: (-i["rrf"], -(i["vector"] or 0.0)))
        out = [
            _chunk(
                i["row"],
                i["vector"] or 0.0,
                {"vector": i["vector"], "keyword": i["kw"], "rrf": round(i["rrf"], 6)},
            )
            for i in ranked
        ]
    if score_threshold > 0:
        out = [c for c in out if c.score >= score_threshold]
    return out[:top_k]


def _json(value: Any) -> dict[str, Any]:
    # Django's psycopg setup hands jsonb to raw cursors as text.
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def scope_restricts(scope: Any) -> bool:
    """A scope with no datasets listed restricts by tags only (API.md: 'datasets it may read')."""
    return bool(scope_dataset_ids(scope))


def scope_dataset_ids(scope: Any) -> list[Any]:
    cached = getattr(scope, "_dataset_ids_cache", None)
    if cached is None:
        cached = list(scope.datasets.values_list("id", flat=True))
        scope._dataset_ids_cache = cached
    return cached


async def aretrieve(**kwargs: Any) -> list[RetrievedChunk]:
    return await sync_to_async(retrieve, thread_sensitive=False)(**kwargs)
