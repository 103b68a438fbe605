"""Retrieval benchmark: quality on the DRF dev questions, and latency/recall at 100k chunks.

    .venv/bin/python bench/retrieval.py [--skip-quality] [--skip-load] [--queries 100]

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
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EMBEDDING_PROVIDER", "local")
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)  # the server process must hash keys alike
BENCH_DB = os.environ.get("BENCH_DB", "bench_retrieval")
BENCH_REDIS_DB = os.environ.get("BENCH_REDIS_DB", "9")


def _configure() -> tuple[str, str]:
    """Point DATABASE_URL/REDIS_URL at the bench database and Redis db (creating the database)."""
    import psycopg

    from chatbot_project import embedded

    env = embedded.configure_environment()
    db_url = os.environ.get("DATABASE_URL") or env["DATABASE_URL"]
    redis_url = os.environ.get("REDIS_URL") or env["REDIS_URL"]
    parts = urlsplit(db_url)
    bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    with psycopg.connect(db_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{BENCH_REDIS_DB}"))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["REDIS_URL"] = redis_url
    return bench_url, redis_url


BENCH_URL, BENCH_REDIS = _configure()

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
DIMS = 384


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


# --------------------------------------------------------------------------- shared fixtures
def tenant_with_key(slug: str) -> tuple[object, str]:
    from apikeys.services import api_key_create
    from tenants.models import Tenant

    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug})
    _, raw = api_key_create(
        tenant=tenant, name="bench", permissions=("chat", "read"), rate_limit="1000000/m"
    )
    return tenant, raw


def bot_for(tenant: object, slug: str, dataset: object, **kw: object) -> object:
    from bots.models import Bot

    bot, _ = Bot.objects.get_or_create(tenant=tenant, slug=slug, defaults={"name": slug, **kw})
    for k, v in kw.items():
        setattr(bot, k, v)
    bot.save()
    bot.datasets.set([dataset])
    return bot


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
    client = Client()
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
N_ROWS = 100_000
N_TENANTS = 20
CHUNKS_PER_DOC = 100
N_CLUSTERS = 200
NOISE = 0.05  # per-dimension noise around a unit-norm cluster centre (norm ~1 overall)


def _shares() -> list[float]:
    rest = (1.0 - 0.01 - 0.05) / (N_TENANTS - 2)
    return [0.01 if t == 0 else 0.05 if t == 5 else rest for t in range(N_TENANTS)]


def _centres(rng: np.random.Generator) -> np.ndarray:
    c = rng.standard_normal((N_CLUSTERS, DIMS)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def _sample(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    v = (
        centres[rng.integers(0, N_CLUSTERS, n)]
        + rng.standard_normal((n, DIMS)).astype(np.float32) * NOISE
    )
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def load(rng: np.random.Generator, centres: np.ndarray) -> list[dict]:
    """Create (or reuse) the 20 tenants with their rows; returns per-tenant info."""
    from datasets.models import Chunk, Dataset
    from tenants.models import Tenant

    tenants = []
    for t in range(N_TENANTS):
        tenant, _ = Tenant.objects.get_or_create(slug=f"load-{t:02d}", defaults={"name": f"t{t}"})
        ds, _ = Dataset.objects.get_or_create(tenant=tenant, name="synthetic")
        tenants.append({"index": t, "tenant": tenant, "dataset": ds})
    existing = Chunk.objects.filter(tenant__slug__startswith="load-").count()
    if existing == N_ROWS:
        print(f"load: reusing {existing} rows already in {BENCH_DB}")
    else:
        ids = [str(i["tenant"].id) for i in tenants]
        with connection.cursor() as cur:
            cur.execute("DELETE FROM datasets_chunk WHERE tenant_id = ANY(%s::uuid[])", [ids])
            cur.execute("DELETE FROM datasets_document WHERE tenant_id = ANY(%s::uuid[])", [ids])
        owners = rng.choice(N_TENANTS, size=N_ROWS, p=_shares())
        vectors = _sample(rng, centres, N_ROWS)
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("DROP INDEX IF EXISTS chunk_embedding_hnsw")
        _copy(tenants, owners, vectors)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("SET max_parallel_maintenance_workers = 1")
            cur.execute(
                "CREATE INDEX chunk_embedding_hnsw ON datasets_chunk USING hnsw "
                "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
            )
            cur.execute("ANALYZE datasets_chunk")
            cur.execute("ANALYZE datasets_document")
        print(
            f"load: {N_ROWS} rows COPY in {loaded:.1f} s, HNSW built in "
            f"{time.perf_counter() - started:.1f} s"
        )
    for info in tenants:
        info["rows"] = Chunk.objects.filter(tenant=info["tenant"]).count()
    return tenants


def _copy(tenants: list[dict], owners: np.ndarray, vectors: np.ndarray) -> None:
    from django.utils import timezone
    from pgvector.psycopg import register_vector

    from datasets.models import Document

    now = timezone.now()
    connection.ensure_connection()
    raw = connection.connection
    register_vector(raw)
    docs: dict[int, list] = {}
    counters: dict[int, int] = {}
    doc_rows = []
    chunk_plan = []
    for i, owner in enumerate(owners.tolist()):
        n = counters.get(owner, 0)
        counters[owner] = n + 1
        if n % CHUNKS_PER_DOC == 0:
            doc_id = uuid.uuid4()
            docs.setdefault(owner, []).append(doc_id)
            doc_rows.append((owner, doc_id, len(docs[owner])))
        chunk_plan.append((i, owner, docs[owner][-1], n % CHUNKS_PER_DOC))
    Document.objects.bulk_create(
        [
            Document(
                id=doc_id,
                tenant=tenants[owner]["tenant"],
                dataset=tenants[owner]["dataset"],
                title=f"doc {n}",
                source_type="text",
                status="ready",
                progress=1.0,
                content_hash=hashlib.sha256(str(doc_id).encode()).hexdigest(),
            )
            for owner, doc_id, n in doc_rows
        ],
        batch_size=2000,
    )
    with (
        raw.cursor() as cur,
        cur.copy(
            "COPY datasets_chunk (id, tenant_id, created_at, updated_at, document_id, dataset_id, "
            '"index", text, token_count, metadata, tags, embedding) FROM STDIN (FORMAT BINARY)'
        ) as copy,
    ):
        copy.set_types(
            ["uuid", "uuid", "timestamptz", "timestamptz", "uuid", "uuid", "int4", "text", "int4",
             "jsonb", "varchar[]", "vector"]
        )  # fmt: skip
        from psycopg.types.json import Jsonb

        for i, owner, doc_id, idx in chunk_plan:
            info = tenants[owner]
            copy.write_row(
                (uuid.uuid4(), info["tenant"].id, now, now, doc_id, info["dataset"].id, idx,
                 f"synthetic chunk {i} of tenant {owner}", 6, Jsonb({}), [], vectors[i])
            )  # fmt: skip
    raw.commit() if not raw.autocommit else None


def _raw_sql(conn: object, flt: object, vec: np.ndarray, plan: str, k: int = 10) -> list[str]:
    """The engine's own statements for this plan (``_vector_statements``: its SELECT, with its
    set_config for HNSW), sent the way the engine sends them (``run_statements``: one round
    trip, binary vector, prepared), on a bare psycopg connection: no Django, no thread hop, no
    count query (cached by the engine)."""
    from datasets.retrieval import QueryVector, _vector_statements, run_statements

    rows = run_statements(conn, _vector_statements(flt, QueryVector(vec), k, plan))[-1]
    return [r[0] for r in rows]


def load_bench(n_queries: int) -> None:
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
    import subprocess

    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", ASGI_SERVER="uvicorn", DEBUG="false",
               DATABASE_URL=BENCH_URL, REDIS_URL=BENCH_REDIS,
               LOG_LEVEL="WARNING", RATE_LIMIT_DEFAULT="1000000/m", SECURE_SSL_REDIRECT="false",
               ALLOWED_HOSTS="127.0.0.1,localhost")  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatbot_project.serve"], cwd=BASE, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
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
        for group, owners in groups.items():
            api_ms, raw_ms, exact_ms, default_ms = [], [], [], []
            recall, default_recall, default_rows = [], [], []
            plans = set()
            for qi, owner in enumerate(owners):
                info = tenants[owner]
                vec = _sample(qrng, centres, 1)[0]
                text = f"bench-query {group} {qi}"
                redis.set(
                    query_key(embedder, text),
                    vec.astype("<f4").tobytes(), ex=3600,
                )  # fmt: skip
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
                _raw_sql(conn, flt, vec, plan)
                raw_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                default = _raw_sql(conn, flt, vec, "hnsw_default")
                default_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                res = client.post(
                    "/v1/retrieve",
                    json={"bot": "bot", "query": text, "top_k": 10, "mode": "vector"},
                    headers={"Authorization": f"Bearer {keys[owner]}"},
                )
                api_ms.append((time.perf_counter() - t0) * 1000)
                assert res.status_code == 200, res.text
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database {BENCH_DB}, redis {BENCH_REDIS}")
    if not args.skip_quality:
        quality()
    if not args.skip_load:
        load_bench(args.queries)


if __name__ == "__main__":
    main()
