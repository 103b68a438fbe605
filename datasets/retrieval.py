"""The retrieval engine: tenant-filtered vector, keyword and hybrid search over chunks.

Every search is filtered inside SQL: tenant, datasets (the bot's ∩ the scope's), the scope's
document tags, documents in use (``READABLE``).

The SQL (filters, plans, statements, running them) is in ``datasets/retrieval_sql.py``; its
names are re-exported here for callers and benchmarks. The same objects: clearing the caches
(``_counts``, ``_total``) through either module clears them, but a test that patches a setting or
function the SQL uses (``EXACT_SCAN_MAX_ROWS``, ``candidate_count``) must patch it there.

Modes (see ../shared/design/RETRIEVAL.md for the measurements behind each choice):
- ``vector``: cosine distance over the 384-d embeddings, an exact scan or the HNSW index
  depending on how many rows the filter leaves.
- ``keyword``: PostgreSQL full text, an OR of the question's lexemes ranked by ``ts_rank``; the
  lexemes are made under each searched dataset's ``language`` (``datasets/text_search.py``).
- ``hybrid``: reciprocal rank fusion (k = 60) of both lists (the keyword list length-normalised).

Scores, all in 0..1, are what ``score_threshold`` applies to:
- ``vector`` and ``hybrid``: the cosine similarity of the chunk to the question (clamped at 0). In
  hybrid mode the order is the fused rank, the threshold still means "semantically at least this
  close", so ``require_grounding`` refuses off-topic questions even when a stray word matches.
- ``keyword``: the share of the question's lexemes the chunk contains.
Every result also carries ``scores`` ({"vector", "keyword", "rrf"}) for debugging and benchmarks.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.db import ProgrammingError

from datasets import retrieval_sql as _sql
from datasets.query_embeddings import embed_query_cached
from datasets.query_vector import QueryVector
from datasets.retrieval_sql import (
    _COLUMNS,
    COUNT_CACHE_SECONDS,
    EXACT_SCAN_MAX_ROWS,
    READABLE,
    _counts,
    _Filter,
    _keyword_statement,
    _run,
    _similarity_statement,
    _total,
    _total_rows,
    _vector_statements,
    candidate_count,
    ef_search_for,
    run_statements,
)
from datasets.shown_url import shown_url
from datasets.text_search import raise_if_missing

__all__ = [
    "COUNT_CACHE_SECONDS",
    "EXACT_SCAN_MAX_ROWS",
    "MODES",
    "READABLE",
    "RRF_K",
    "_COLUMNS",
    "QueryVector",
    "RetrievedChunk",
    "_Filter",
    "_counts",
    "_keyword_statement",
    "_run",
    "_total",
    "_total_rows",
    "_vector_statements",
    "aretrieve",
    "candidate_count",
    "ef_search_for",
    "embed_query_cached",
    "hybrid_search",
    "keyword_search",
    "retrieve",
    "run_statements",
    "scope_dataset_ids",
    "scope_restricts",
    "vector_search",
]

log = logging.getLogger("chatbot.retrieval")

MODES = ("vector", "keyword", "hybrid")
RRF_K = 60


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


def vector_search(
    flt: _Filter, vec: Sequence[float], limit: int, *, plan: str | None = None
) -> list[tuple[Any, ...]]:
    """Rows (columns..., similarity) best first.

    ``plan`` forces "exact", "hnsw" or "hnsw_default" (no iterative scan: the benchmark's
    baseline); by default the candidate row count decides.
    """
    qvec = QueryVector(vec)
    return _complete(flt, qvec, limit, plan, _run(_vector_statements(flt, qvec, limit, plan))[-1])


def _complete(
    flt: _Filter, qvec: QueryVector, limit: int, plan: str | None, rows: list[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """``rows``, or the exact scan's when an HNSW search came back short of ``limit`` although
    the filter holds more rows: the iterative scan gives up after ``hnsw.max_scan_tuples``
    index entries, which an index full of dead entries (many deleted or re-ingested chunks
    before VACUUM) can use up. Fewer citations than there are chunks must never be silent."""
    if len(rows) >= limit or plan in ("exact", "hnsw_default"):
        return rows
    count = _sql.candidate_count(flt)  # (cached: the statements just asked for it)
    if (plan is None and count <= _sql.EXACT_SCAN_MAX_ROWS) or count <= len(rows):
        return rows  # that was the exact scan, or every row is there
    log.warning("HNSW search returned %d of %d rows; exact scan instead", len(rows), limit)
    return _run(_vector_statements(flt, qvec, limit, "exact"))[-1]


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
        krows = _run([_keyword_statement(flt, query, pool, None, for_fusion=True)])[-1]
        qvec = QueryVector(vec.result())
        statements = _vector_statements(flt, qvec, pool, None)
        statements.append(_similarity_statement(qvec, [r[0] for r in krows]))
        results = _run(statements)
        sims = dict(results[-1])
        vrows = _complete(flt, qvec, pool, None, results[-2])
        return vrows, [(*r[:10], sims.get(r[0])) for r in krows]
    qvec = QueryVector(vec.result() if isinstance(vec, Future) else vec)
    statements = _vector_statements(flt, qvec, pool, None)
    statements.append(_keyword_statement(flt, query, pool, qvec, for_fusion=True))
    results = _run(statements)
    return _complete(flt, qvec, pool, None, results[-2]), results[-1]


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
        source=(url and shown_url(url))
        or (doc_meta or {}).get("source", "")
        or filename
        or title
        or "",
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
        vec = (
            query_vector
            if query_vector is not None
            else embed_query_cached(query, tenant_id=tenant.id)
        )
        if mode == "vector" and isinstance(vec, Future):
            vec = vec.result()

    if mode == "vector":
        rows = vector_search(flt, vec, top_k)  # type: ignore[arg-type]
        out = [_chunk(r, r[9], {"vector": float(r[9]), "keyword": None, "rrf": None}) for r in rows]
    elif mode == "keyword":
        rows = _with_languages(flt, lambda: keyword_search(flt, query, top_k, None))
        out = [_chunk(r, r[9], {"vector": None, "keyword": float(r[9]), "rrf": None}) for r in rows]
    else:
        vrows, krows = _with_languages(flt, lambda: hybrid_search(flt, query, vec, pool))  # type: ignore[arg-type]
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


def _with_languages(flt: _Filter, search: Callable[[], Any]) -> Any:
    """``search()``; a 409 naming the configuration if it failed because a searched dataset's
    ``language`` was dropped on the server (``text_search.LanguageMissing``), not a 500. Only
    the failure pays for finding out."""
    try:
        return search()
    except ProgrammingError:
        raise_if_missing(
            tenant_id=flt.tenant_id,
            dataset_ids=flt.dataset_ids,
            what="keyword and hybrid search cannot run over it (vector mode still can)",
        )
        raise


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
    """A scope with no datasets listed restricts by tags only (API.md: 'datasets it may read'),
    unless it listed some that were deleted since (``limited_to_datasets``): then it reads none,
    as deleting a scope's datasets must not open the bot's others to it."""
    return bool(getattr(scope, "limited_to_datasets", False) or scope_dataset_ids(scope))


def scope_dataset_ids(scope: Any) -> list[Any]:
    cached = getattr(scope, "_dataset_ids_cache", None)
    if cached is None:
        cached = list(scope.datasets.values_list("id", flat=True))
        scope._dataset_ids_cache = cached
    return cached


async def aretrieve(**kwargs: Any) -> list[RetrievedChunk]:
    return await sync_to_async(retrieve, thread_sensitive=False)(**kwargs)
