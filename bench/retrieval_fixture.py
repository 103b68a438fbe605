"""bench/retrieval.py's set-up: its database (``bench_retrieval``, or ``BENCH_DB``) and Redis db (9,
or ``BENCH_REDIS_DB``) with Django set up on them at import, tenants with keys and bots, and the
synthetic load: 100,000 chunks x 384 dims over 20 tenants (tenant 0 holds 1%, tenant 5 holds 5%,
the rest share 94%), clustered normalised random vectors, bulk COPY (binary), HNSW built after
loading; reused when the database already holds exactly that many rows.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from pathlib import Path

from bench.common import configure

BENCH_DB, BENCH_REDIS_DB, BENCH_URL, BENCH_REDIS = configure("bench_retrieval", "9")

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
DIMS = 384


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


# --------------------------------------------------------------------------- synthetic load
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
