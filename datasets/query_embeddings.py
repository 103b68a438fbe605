"""Question embeddings for retrieval: Redis-cached, and batched when many arrive at once.

``embed_query_cached(text, tenant_id=...)`` embeds one question (cache by tenant, model and
sha256 of the text). ``submit(text, tenant_id=...) -> Future`` is what the chat path uses:
questions that arrive while one batch is embedded wait and go together in the next, with one
Redis round trip for the batch's cache lookups. ``aprefetch(text, tenant_id)`` (async) does
the cache lookup on the event loop's own Redis client first and submits only a miss: a cached
question never leaves the loop, and a new one skips the lookup in the embedding thread (where,
beside the chat's DB thread, it took ~1 ms for a 0.1 ms round trip). The local model embeds
questions one by one in int8 (~3 ms each,
``datasets/embedders/minilm_onnx.py``; one question's vector must not depend on its batch-mates),
or, with ``QUERY_EMBEDDING_PRECISION=fp32``, in one float32 numpy pass per batch (that pass reads
all ~42 MB of weights whatever the batch size, so a batch costs a few times one question).
The cache key includes the precision, so int8 and float32 vectors never mix.

Each tenant has its own entries: a question found in the cache answers several milliseconds
sooner (a whole provider round trip sooner with OpenAI embeddings), so with one cache for all,
a tenant could tell, by timing its own /v1/retrieve or chat, whether anyone on the instance had
asked a given question in the last ``QUERY_CACHE_TTL`` (27 of 30 single probes told apart).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

log = logging.getLogger("chatbot.retrieval")

QUERY_CACHE_TTL = 7 * 24 * 3600
MAX_BATCH = 64


def _key(embedder: Any, text: str, tenant_id: Any) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()
    precision = getattr(embedder, "query_precision", "-")  # int8 and fp32 vectors never mix
    model = f"{embedder.model_name}:{embedder.dimensions}:{precision}"
    return f"qemb:{tenant_id}:{model}:{digest}"  # per tenant: see the module's docstring


def forget_cached_questions(tenant_id: Any) -> int:
    """Delete a tenant's cached question embeddings (its tenant's deletion): the number gone.
    A cache: a Redis failure is logged, not raised."""
    from chatbot_project.redis_client import get_redis

    try:
        client = get_redis()
        gone = 0
        batch: list = []
        for key in client.scan_iter(match=f"qemb:{tenant_id}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                gone += client.delete(*batch)
                batch = []
        if batch:
            gone += client.delete(*batch)
        return gone
    except Exception:
        log.warning("could not forget the cached questions of tenant %s", tenant_id, exc_info=True)
        return 0


def _cache_get(keys: list[str]) -> list[bytes | None]:
    from chatbot_project.redis_client import get_redis

    try:
        return list(get_redis().mget(keys))
    except Exception:  # a cache, never a reason to fail
        log.warning("query embedding cache unavailable", exc_info=True)
        return [None] * len(keys)


def _cache_set(items: dict[str, list[float]]) -> None:
    from chatbot_project.redis_client import get_redis

    try:
        pipe = get_redis().pipeline(transaction=False)
        for key, vec in items.items():
            pipe.set(key, np.asarray(vec, dtype="<f4").tobytes(), ex=QUERY_CACHE_TTL)
        pipe.execute()
    except Exception:
        log.warning("query embedding cache unavailable", exc_info=True)


def _embed_uncached(
    texts: list[str], tenant_ids: list[Any], looked_up: list[str | None] | None = None
) -> tuple[list[list[float]], dict[str, list[float]]]:
    """Embeddings of ``texts`` (asked by ``tenant_ids``; cached ones from Redis, the rest
    computed) and the new cache entries, which the caller writes once it has handed the vectors
    on. ``looked_up[i]``: the cache key of ``texts[i]`` when the caller already found it missing
    from the cache."""
    global _warm_embedder
    from datasets.embeddings import get_embedder

    embedder = get_embedder()
    looked_up = looked_up or [None] * len(texts)
    keys = [
        k or _key(embedder, t, tenant)
        for t, tenant, k in zip(texts, tenant_ids, looked_up, strict=True)
    ]
    unknown = [i for i, k in enumerate(looked_up) if k is None]
    found = _cache_get([keys[i] for i in unknown]) if unknown else []
    out: list[list[float] | None] = [None] * len(texts)
    for i, raw in zip(unknown, found, strict=True):
        out[i] = np.frombuffer(raw, dtype="<f4").tolist() if raw else None
    _warm_embedder = embedder  # built and its keys computed once: the loop may use it now
    missing = [i for i, vec in enumerate(out) if vec is None]
    if not missing:
        return out, {}  # type: ignore[return-value]
    wanted = [texts[i] for i in missing]
    embed = getattr(embedder, "embed_queries", None)  # the local model's question path
    fresh = embed(wanted).tolist() if embed is not None else embedder.embed_documents(wanted)
    for i, vec in zip(missing, fresh, strict=True):
        out[i] = list(vec)
    return out, {keys[i]: out[i] for i in missing}  # type: ignore[return-value,misc]


def embed_queries_cached(texts: list[str], *, tenant_id: Any) -> list[list[float]]:
    """Embeddings of ``texts`` (cached ones from Redis, the rest computed and cached)."""
    out, new_entries = _embed_uncached(texts, [tenant_id] * len(texts))
    if new_entries:
        _cache_set(new_entries)
    return out


def embed_query_cached(text: str, *, tenant_id: Any) -> list[float]:
    """One question's embedding, cached in Redis by tenant, model and sha256 of the text."""
    return embed_queries_cached([text], tenant_id=tenant_id)[0]


class _Batcher:
    """Questions wait while one batch is embedded, then go together in the next."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Any, Future, str | None]] = []
        self._running = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")

    def submit(self, text: str, tenant_id: Any, looked_up: str | None = None) -> Future:
        future: Future = Future()
        with self._lock:
            self._pending.append((text, tenant_id, future, looked_up))
            start, self._running = not self._running, True
        if start:
            try:
                self._pool.submit(self._drain)
            except RuntimeError:  # interpreter shutting down
                with self._lock:
                    self._running = False
                future.set_exception(RuntimeError("embedding pool is shut down"))
        return future

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if not batch:
                    self._running = False
                    return
            try:
                vectors, new_entries = _embed_uncached(
                    [text for text, _, _, _ in batch],
                    [tenant for _, tenant, _, _ in batch],
                    [key for _, _, _, key in batch],
                )
            except Exception as exc:  # every waiting chat gets the error, none hangs
                for _, _, future, _ in batch:
                    future.set_exception(exc)
                continue
            for (_, _, future, _), vec in zip(batch, vectors, strict=True):
                future.set_result(vec)
            if new_entries:  # after the chats have their vectors: off their critical path
                _cache_set(new_entries)


_batcher: _Batcher | None = None
_batcher_lock = threading.Lock()


def submit(text: str, looked_up: str | None = None, *, tenant_id: Any) -> Future:
    """Start embedding ``text`` (batched with other questions waiting); ``.result()`` it.
    ``looked_up``: its cache key, when the caller already found it missing from the cache."""
    global _batcher
    if _batcher is None:
        with _batcher_lock:
            if _batcher is None:
                _batcher = _Batcher()
    return _batcher.submit(text, tenant_id, looked_up)


_warm_embedder: Any = None  # the embedder the embedding thread has built and used


def ready_key(text: str, tenant_id: Any) -> str | None:
    """``text``'s cache key with the embedder the embedding thread has built and used, else
    None (never builds it): a caller that reads the cache itself (``alookup``, the
    /v1/retrieve fast path) passes the key and what it found to ``after_lookup``."""
    from datasets.embeddings import built_embedder

    embedder = built_embedder()
    if embedder is None or embedder is not _warm_embedder:
        return None
    return _key(embedder, text, tenant_id)


async def alookup(text: str, tenant_id: Any) -> tuple[str | None, list[float] | None]:
    """``text``'s cache key and cached vector (None: not cached), with one GET on the running
    loop's Redis client. ``(None, None)`` until the embedding thread has built and used the
    configured embedder (building it, ~1 s, must not happen on the event loop) or when Redis
    fails: the embedding thread looks the question up then."""
    from chatbot_project.redis_client import loop_redis

    key = ready_key(text, tenant_id)
    if key is None:
        return None, None
    try:
        raw = await loop_redis().get(key)
    except Exception:  # a cache, never a reason to fail
        log.warning("query embedding cache unavailable", exc_info=True)
        return None, None
    return key, (np.frombuffer(raw, dtype="<f4").tolist() if raw else None)


def after_lookup(
    text: str, key: str | None, vector: bytes | list[float] | None, *, tenant_id: Any
) -> Future:
    """The embedding as a Future: done when the caller's cache read found it (the vector, or
    the cached value as Redis returned it), else computed."""
    if isinstance(vector, bytes):
        vector = np.frombuffer(vector, dtype="<f4")  # type: ignore[assignment]
    if vector is not None:
        done: Future = Future()
        done.set_result(vector)
        return done
    return submit(text, key, tenant_id=tenant_id)


async def aprefetch(text: str, tenant_id: Any) -> Future:
    """``alookup`` then ``after_lookup``: the question's embedding, started."""
    return after_lookup(text, *await alookup(text, tenant_id), tenant_id=tenant_id)
