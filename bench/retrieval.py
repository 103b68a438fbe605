"""Retrieval benchmark: quality on the DRF dev questions, and latency/recall at 100k chunks.

    .venv/bin/python bench/retrieval.py [--skip-quality] [--skip-load] [--queries 100] [--floor]

Runs against its own database (``bench_retrieval`` on the embedded/configured PostgreSQL) and
Redis db 9, so the 100k synthetic rows never touch dev or test data.

1. Quality: ../shared/corpus/drf-docs ingested by the real pipeline (create + process in-process,
   titles = paths), the offline MiniLM embedder; each question of drf-qa-dev.jsonl asked through
   POST /v1/retrieve (Django's in-process client, the full view/auth/serialisation path) in each
   mode with top_k 10. Document level: hit@5 (a relevant document among the top-5 chunks) and
   MRR@10.
2. Load: 100,000 chunks x 384 dims over 20 tenants (tenant 0 holds 1%, tenant 5 holds 5%, the
   rest share 94%), clustered normalised random vectors, bulk COPY (binary), HNSW built after
   loading. Query vectors come from the same clusters. For each group (all tenants, the 1% and the
   5% tenant): API POST /v1/retrieve p50 through a real Uvicorn process (query text whose
   embedding is pre-seeded in the Redis query cache, so the API searches the same vector), raw
   SQL p50 of the same search (the final SELECT the engine issues, on a bare psycopg connection),
   recall@10 against an exact scan for the engine's plan and for HNSW with default settings.
   Per query the exact scan (the truth) and the HNSW-default query run first, then the API call
   and the raw SQL back to back in alternating order (from 2026-12-02; before, raw SQL always
   ran right after the exact scan of the same rows, i.e. with the hottest caches).

The pieces: bench/retrieval_fixture.py (database, tenants, keys, bots, the synthetic rows),
bench/retrieval_measure.py (the two measurements), bench/common.py (shared with the chat
benchmark). This script parses the command line and runs them; the names other scripts import
from it (``BENCH_URL``, ``load``, ``quality``, ``load_bench``...) are re-exported here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))

# Importing the fixture configures the bench database and Redis db and sets Django up.
from bench.retrieval_fixture import (  # noqa: E402, F401 - re-exported
    BENCH_DB,
    BENCH_REDIS,
    BENCH_REDIS_DB,
    BENCH_URL,
    CHUNKS_PER_DOC,
    CORPUS,
    DIMS,
    N_CLUSTERS,
    N_ROWS,
    N_TENANTS,
    NOISE,
    _centres,
    _copy,
    _sample,
    _shares,
    bot_for,
    load,
    tenant_with_key,
)

# isort: split
from django.core.management import call_command  # noqa: E402

from bench.common import pct  # noqa: E402, F401 - re-exported
from bench.retrieval_measure import _raw_sql, load_bench, quality  # noqa: E402, F401


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--floor", action="store_true",
        help="also time minimal ASGI servers doing only the search (bench/retrieval_floor.py)",
    )  # fmt: skip
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database {BENCH_DB}, redis {BENCH_REDIS}")
    if not args.skip_quality:
        quality()
    if not args.skip_load:
        load_bench(args.queries, floor=args.floor)


if __name__ == "__main__":
    main()
