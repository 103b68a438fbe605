"""Where POST /v1/retrieve's time goes beyond its SQL: the fast lane's pieces timed in-process.

    .venv/bin/python bench/retrieval_parts.py [--tenant 0] [--queries 400]

On bench/retrieval.py's database (run that first: it loads the 100k rows), for one tenant
(0 holds 1% of the rows and gets the exact plan, 5 holds 5% and gets HNSW), each query in turn,
all in this process on one event loop, no HTTP, each after an untimed first run of the
query's statements (so every part finds the same rows in the caches):

- ``raw``: the engine's statements on a bare psycopg connection (the ratio's denominator);
- ``limit``: the rate-limit hit and the cached query vector, one Redis script call on the loop
  (``retrieve_asgi._limit``);
- ``hop``: a no-op through the DB thread pool (``dbthreads.db_sync``);
- ``serve``: the DB-thread work (``retrieve_asgi._serve``: the remembered bot confirmed in the
  search's round trip, the search, the results and their JSON), and ``serve, bot trusted``: the
  same without the bot's confirmation;
- ``lane``: the whole lane (``retrieve_asgi.application``) and ``asgi``: the whole ASGI
  application (``chatbot_project.asgi``: body limit, write timeout, lean router, lane).

What HTTP itself costs is the bench's API p50 minus ``asgi`` (bench/README.md, "Load").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the raw side runs on the loop

from bench.retrieval_fixture import BENCH_URL, _centres, _sample, bot_for, load


async def measure(info: dict, n: int) -> dict[str, list[float]]:
    import numpy as np
    import psycopg

    from apikeys.services import api_key_create
    from chatbot_project import fastlane
    from chatbot_project.asgi import application
    from chatbot_project.redis_client import get_redis
    from conversations import retrieve_asgi, selectors
    from conversations.dbthreads import db_sync
    from datasets.embeddings import get_embedder
    from datasets.query_embeddings import _key as query_key
    from datasets.retrieval import (
        EXACT_SCAN_MAX_ROWS,
        QueryVector,
        _Filter,
        _vector_statements,
        candidate_count,
        run_statements,
    )  # fmt: skip

    tenant = info["tenant"]
    _, key = api_key_create(
        tenant=tenant, name="parts", permissions=("chat",), rate_limit="1000000/m"
    )
    bot_for(tenant, "bot", info["dataset"], top_k=10, retrieval_mode="vector")
    rng = np.random.default_rng(7)
    centres = _centres(np.random.default_rng(42))
    vecs = [_sample(rng, centres, 1)[0] for _ in range(n)]
    texts = [f"parts {i} {time.time()}" for i in range(n)]
    embedder, redis = get_embedder(), get_redis()
    for text, vec in zip(texts, vecs, strict=True):
        redis.set(query_key(embedder, text, tenant.id), vec.astype("<f4").tobytes(), ex=3600)
    flt = _Filter(tenant_id=str(tenant.id), dataset_ids=(str(info["dataset"].id),), tags=None)
    candidate_count(flt)
    plan = "exact" if info["rows"] <= EXACT_SCAN_MAX_ROWS else "hnsw"
    conn = psycopg.connect(BENCH_URL, autocommit=True)
    headers = {"authorization": f"Bearer {key}", "host": "127.0.0.1"}
    context, _check = await fastlane.authenticated(headers, "chat", True)
    lane = retrieve_asgi.application(None)
    remembered = selectors.with_bot

    def trusted(*, tenant, ref, context, work):  # the bot as remembered, not confirmed
        row = selectors._bot_rows[(tenant.id, str(ref))]
        return work(selectors._bot_from_row(tenant, row, context))

    scope = {
        "type": "http", "method": "POST", "path": "/v1/retrieve", "root_path": "",
        "scheme": "http", "http_version": "1.1", "query_string": b"", "asgi": {"version": "3.0"},
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    out: dict[str, list[float]] = {}

    def timed(name: str, t0: float) -> None:
        out.setdefault(name, []).append((time.perf_counter() - t0) * 1000)

    for i in range(n):
        body = json.dumps({"bot": "bot", "query": texts[i], "top_k": 10, "mode": "vector"}).encode()
        statements = _vector_statements(flt, QueryVector(vecs[i]), 10, plan)
        run_statements(conn, statements)  # untimed: every timed part then finds the rows warm
        t0 = time.perf_counter()
        run_statements(conn, statements)
        timed("raw", t0)
        params = retrieve_asgi._parse(body)
        t0 = time.perf_counter()
        limited = await retrieve_asgi._limit(context, params)
        timed("limit", t0)
        t0 = time.perf_counter()
        await db_sync(lambda: None)()
        timed("hop", t0)
        t0 = time.perf_counter()
        assert retrieve_asgi._serve(context, params, limited)[0] == 200
        timed("serve", t0)
        selectors.with_bot = trusted
        try:
            t0 = time.perf_counter()
            retrieve_asgi._serve(context, params, limited)
            timed("serve, bot trusted", t0)
        finally:
            selectors.with_bot = remembered
        for name, app in (("lane", lane), ("asgi", application)):
            sent: list[dict] = []

            async def receive(body: bytes = body) -> dict:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict, sent: list = sent) -> None:
                sent.append(message)

            t0 = time.perf_counter()
            await app(dict(scope), receive, send)
            timed(name, t0)
            assert sent[0]["status"] == 200, sent
    return out


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser()
    parser.add_argument("--tenant", type=int, default=0)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    tenants = load(np.random.default_rng(42), _centres(np.random.default_rng(42)))
    info = tenants[args.tenant]
    out = asyncio.run(measure(info, args.queries))
    raw = statistics.median(out["raw"])
    print(f"tenant {args.tenant} ({info['rows']} rows), {args.queries} queries, p50 in ms:")
    print("| part | p50 ms | minus raw |")
    print("| --- | --- | --- |")
    for name, xs in out.items():
        p50 = statistics.median(xs)
        timed_with_raw = name in ("serve", "serve, bot trusted", "lane", "asgi")
        extra = f"{p50 - raw:+.3f}" if timed_with_raw else ""
        print(f"| {name} | {p50:.3f} | {extra} |")


if __name__ == "__main__":
    main()
