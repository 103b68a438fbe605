"""bench/retrieval.py's two measurements: quality on the DRF dev questions through the in-process
API, and latency/recall on the synthetic 100k-chunk load (bench/retrieval_fixture.py) through a
real Uvicorn process, against the raw SQL the engine issues and an exact scan.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import numpy as np

from bench.common import serve
from bench.retrieval_fixture import (
    BENCH_REDIS,
    BENCH_URL,
    CORPUS,
    N_ROWS,
    N_TENANTS,
    _centres,
    _sample,
    bot_for,
    load,
    tenant_with_key,
)


# --------------------------------------------------------------------------- 1. quality
def quality() -> dict[str, dict[str, float]]:
    from django.test import Client

    from datasets.ingestion import process_document
    from datasets.models import Document
    from datasets.services import dataset_get_or_create, document_create_from_path

    tenant, key = tenant_with_key("bench-quality")
    dataset, _ = dataset_get_or_create(tenant=tenant, name="drf-docs")
    root = CORPUS / "drf-docs"
    started = time.perf_counter()
    ingested = 0
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        doc, _ = document_create_from_path(
            tenant=tenant, dataset=dataset, path=path, title=rel, metadata={"path": rel},
            enqueue=False,
        )  # fmt: skip
        if doc.status != Document.Status.READY:
            process_document(doc.id, use_lease=False)
            ingested += 1
    docs = Document.objects.for_tenant(tenant).filter(dataset=dataset)
    chunks = sum(d.chunk_count for d in docs)
    print(
        f"drf-docs: {docs.count()} documents, {chunks} chunks "
        f"({ingested} ingested now in {time.perf_counter() - started:.1f} s)"
    )
    bot_for(tenant, "drf", dataset, top_k=10, retrieval_mode="hybrid")
    questions = [
        json.loads(line)
        for line in (CORPUS / "drf-qa-dev.jsonl").read_text().splitlines()
        if line.strip()
    ]
    client = Client(HTTP_HOST="localhost")  # ALLOWED_HOSTS has testserver only under tests
    results: dict[str, dict[str, float]] = {}
    for mode in ("keyword", "vector", "hybrid"):
        hits, rr, times = 0, 0.0, []
        for q in questions:
            t0 = time.perf_counter()
            res = client.post(
                "/v1/retrieve", {"bot": "drf", "query": q["question"], "top_k": 10, "mode": mode},
                content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
            )  # fmt: skip
            times.append((time.perf_counter() - t0) * 1000)
            assert res.status_code == 200, res.content
            ranked = [r["document_title"] for r in res.json()["data"]]
            relevant = set(q["relevant"])
            if any(t in relevant for t in ranked[:5]):
                hits += 1
            for i, t in enumerate(ranked[:10], 1):
                if t in relevant:
                    rr += 1 / i
                    break
        n = len(questions)
        results[mode] = {"hit@5": hits / n, "mrr@10": rr / n, "p50_ms": statistics.median(times)}
    print(f"\nQuality on drf-qa-dev.jsonl ({len(questions)} questions) via POST /v1/retrieve:")
    print("| mode | hit@5 | MRR@10 | in-process API p50 ms |")
    print("| --- | --- | --- | --- |")
    for mode, r in results.items():
        print(f"| {mode} | {r['hit@5']:.2f} | {r['mrr@10']:.2f} | {r['p50_ms']:.1f} |")
    return results


# --------------------------------------------------------------------------- 2. load
def _raw_sql(conn: object, flt: object, vec: np.ndarray, plan: str, k: int = 10) -> list[str]:
    """The engine's own statements for this plan (``_vector_statements``: its SELECT, with its
    set_config for HNSW), sent the way the engine sends them (``run_statements``: one round
    trip, binary vector, prepared), on a bare psycopg connection: no Django, no thread hop, no
    count query (cached by the engine)."""
    from datasets.retrieval import QueryVector, _vector_statements, run_statements

    rows = run_statements(conn, _vector_statements(flt, QueryVector(vec), k, plan))[-1]
    return [r[0] for r in rows]


def _time_raw(conn: Any, flt: Any, vec: np.ndarray, plan: str) -> float:
    t0 = time.perf_counter()
    _raw_sql(conn, flt, vec, plan)
    return (time.perf_counter() - t0) * 1000


def _time_api(client: Any, key: str, text: str) -> tuple[float, Any]:
    t0 = time.perf_counter()
    res = client.post(
        "/v1/retrieve",
        json={"bot": "bot", "query": text, "top_k": 10, "mode": "vector"},
        headers={"Authorization": f"Bearer {key}"},
    )
    return (time.perf_counter() - t0) * 1000, res


def load_bench(n_queries: int, floor: bool = False) -> None:
    """The load table; ``floor``: also time bench/retrieval_floor.py's minimal servers in the
    same loop (their ratio to the same raw SQL p50 is printed under the table)."""
    import httpx
    import psycopg

    from chatbot_project.redis_client import get_redis
    from chatbot_project.testing.processes import free_port, stop
    from datasets.embeddings import get_embedder
    from datasets.query_embeddings import _key as query_key
    from datasets.retrieval import EXACT_SCAN_MAX_ROWS, _Filter, candidate_count

    rng = np.random.default_rng(42)
    centres = _centres(rng)
    tenants = load(rng, centres)
    print("rows per tenant:", {i["index"]: i["rows"] for i in tenants})
    keys = {}
    for info in tenants:
        from apikeys.services import api_key_create

        _, keys[info["index"]] = api_key_create(
            tenant=info["tenant"], name="bench", permissions=("chat",), rate_limit="1000000/m"
        )
        bot_for(info["tenant"], "bot", info["dataset"], top_k=10, retrieval_mode="vector")

    embedder = get_embedder()
    redis = get_redis()
    qrng = np.random.default_rng(7)
    groups = {
        "all tenants": [int(t) for t in qrng.integers(0, N_TENANTS, n_queries)],
        "1% tenant": [0] * n_queries,
        "5% tenant": [5] * n_queries,
    }
    port = free_port()
    proc = serve(port, "uvicorn", BENCH_URL, BENCH_REDIS, RATE_LIMIT_DEFAULT="1000000/m")
    from bench import retrieval_floor

    floor_servers = retrieval_floor.start() if floor else {}
    floor_ms: dict[str, dict[str, list[float]]] = {}
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        conn = psycopg.connect(BENCH_URL, autocommit=True)
        from bench.rawhttp import RawHTTPClient

        floor_clients = {m: _ready_client(p) for m, (_, p) in floor_servers.items()}

        # A minimal keep-alive client (bench/rawhttp.py): httpx would add ~0.5 ms of its own
        # Python per request to the API side of the ratio; psycopg on the raw side is C.
        client = RawHTTPClient("127.0.0.1", port)
        print(
            f"\nLoad: {N_ROWS} chunks, {N_TENANTS} tenants, k=10, {n_queries} queries per group; "
            f"engine plan: exact scan up to {EXACT_SCAN_MAX_ROWS} candidate rows, else HNSW + "
            "relaxed_order iterative scan."
        )
        print(
            "| group | plan | API p50 ms | raw SQL p50 ms | ratio | recall@10 | "
            "HNSW default p50 ms | default rows | default recall@10 | exact p50 ms |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        floor_ratio: dict[str, list[float]] = {}
        for group, owners in groups.items():
            api_ms, raw_ms, exact_ms, default_ms = [], [], [], []
            recall, default_recall, default_rows = [], [], []
            plans = set()
            for qi, owner in enumerate(owners):
                info = tenants[owner]
                vec = _sample(qrng, centres, 1)[0]
                text = f"bench-query {group} {qi}"
                cache_key = query_key(embedder, text, info["tenant"].id)  # per tenant
                redis.set(cache_key, vec.astype("<f4").tobytes(), ex=3600)
                flt = _Filter(
                    tenant_id=str(info["tenant"].id), dataset_ids=(str(info["dataset"].id),),
                    tags=None,
                )  # fmt: skip
                plan = "exact" if info["rows"] <= EXACT_SCAN_MAX_ROWS else "hnsw"
                plans.add(plan)
                candidate_count(flt)  # the engine caches it (30 s); not part of the query
                t0 = time.perf_counter()
                truth = _raw_sql(conn, flt, vec, "exact")
                exact_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                default = _raw_sql(conn, flt, vec, "hnsw_default")
                default_ms.append((time.perf_counter() - t0) * 1000)

                # The two timed calls back to back, in alternating order: whichever runs second
                # finds the same rows hot in every cache the first one warmed.
                if qi % 2:
                    ms, res = _time_api(client, keys[owner], text)
                    api_ms.append(ms)
                    raw_ms.append(_time_raw(conn, flt, vec, plan))
                else:
                    raw_ms.append(_time_raw(conn, flt, vec, plan))
                    ms, res = _time_api(client, keys[owner], text)
                    api_ms.append(ms)
                assert res.status_code == 200, res.text
                for mode, fc in floor_clients.items():  # after the pair: the same warm rows
                    body = retrieval_floor.payload(info, vec, cache_key, plan)
                    t0 = time.perf_counter()
                    floor_res = fc.post("/", json=body)
                    ms = (time.perf_counter() - t0) * 1000
                    assert floor_res.status_code == 200, floor_res.text
                    floor_ms.setdefault(group, {}).setdefault(mode, []).append(ms)
                got = [r["chunk_id"] for r in res.json()["data"]]
                recall.append(len(set(got) & set(truth)) / len(truth))
                default_rows.append(len(default))
                default_recall.append(len(set(default) & set(truth)) / len(truth))
            api50, raw50 = statistics.median(api_ms), statistics.median(raw_ms)
            print(
                f"| {group} | {'/'.join(sorted(plans))} | {api50:.2f} | {raw50:.2f} | "
                f"{api50 / raw50:.2f} | {statistics.mean(recall):.3f} | "
                f"{statistics.median(default_ms):.2f} | {statistics.mean(default_rows):.1f} | "
                f"{statistics.mean(default_recall):.3f} | {statistics.median(exact_ms):.2f} |"
            )
            for mode, xs in floor_ms.get(group, {}).items():
                floor_ratio.setdefault(mode, []).append(statistics.median(xs) / raw50)
        for mode, ratios in floor_ratio.items():
            print(f"floor server {mode}: " + " / ".join(f"{r:.2f}" for r in ratios) + " x raw")
        # The HTTP floor on this server: the cheapest authenticated-free route.
        floor = []
        for _ in range(n_queries):
            t0 = time.perf_counter()
            client.get("/v1/health")
            floor.append((time.perf_counter() - t0) * 1000)
        print(
            "\nHTTP floor (GET /v1/health on the same server) p50: "
            f"{statistics.median(floor):.2f} ms"
        )
    finally:
        stop(proc)
        for fproc, _ in floor_servers.values():
            stop(fproc)


def _ready_client(port: int) -> Any:
    """A RawHTTPClient once the server on ``port`` answers (any status)."""
    from bench.rawhttp import RawHTTPClient

    for _ in range(300):
        try:
            client = RawHTTPClient("127.0.0.1", port)
            client.get("/")
            return client
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"floor server on port {port} did not start")
