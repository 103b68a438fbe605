"""OpenAI-compatible embeddings through the ``openai`` SDK.

Batched (``BATCH_SIZE`` inputs per request), with the ``dimensions`` parameter, bounded
concurrency (``MAX_CONCURRENCY`` requests in flight), per-request timeouts, and our own retries
with exponential backoff plus full jitter on 429 / 5xx / connection errors (the SDK's own
retries are off so that one policy applies). Vectors are re-normalised defensively.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from datasets.embeddings import EmbeddingError

log = logging.getLogger("chatbot.embeddings")

BATCH_SIZE = 96
MAX_CONCURRENCY = 4
MAX_ATTEMPTS = 5
BASE_DELAY = 0.5
MAX_DELAY = 20.0
TIMEOUT_SECONDS = 30.0


def _normalise(vectors: list[list[float]], dimensions: int) -> list[list[float]]:
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != dimensions:
        raise EmbeddingError(
            f"The embedding provider returned vectors of shape {arr.shape}, expected "
            f"{dimensions} dimensions; check EMBEDDING_MODEL supports `dimensions`."
        )
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return (arr / np.maximum(norms, 1e-12)).tolist()


def _retryable(exc: Exception) -> bool:
    import openai

    if isinstance(exc, openai.APIConnectionError | openai.APITimeoutError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def _delay(attempt: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return min(MAX_DELAY, retry_after)
    return random.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**attempt))  # noqa: S311 - jitter


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        return float(response.headers.get("retry-after"))
    except (TypeError, ValueError):
        return None


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    if status:
        return f"The embedding provider answered HTTP {status}."
    return f"The embedding provider could not be reached ({exc.__class__.__name__})."


class OpenAIEmbedder:
    def __init__(
        self,
        *,
        model: str,
        dimensions: int,
        api_key: str | None,
        base_url: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        import openai

        self.model_name = model
        self.dimensions = dimensions
        kw = {
            "api_key": api_key or "missing",
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": 0,
        }
        self._client = openai.OpenAI(**kw)
        self._aclient = openai.AsyncOpenAI(**kw)

    def _request(self, texts: list[str]) -> list[list[float]]:
        last: Exception | None = None
        for attempt in range(MAX_ATTEMPTS):
            try:
                resp = self._client.embeddings.create(
                    model=self.model_name, input=texts, dimensions=self.dimensions
                )
                ordered = sorted(resp.data, key=lambda d: d.index)
                return _normalise([d.embedding for d in ordered], self.dimensions)
            except EmbeddingError:
                raise
            except Exception as exc:
                if not _retryable(exc):
                    raise EmbeddingError(_describe(exc), retryable=False) from exc
                last = exc
                if attempt + 1 < MAX_ATTEMPTS:
                    wait = _delay(attempt, _retry_after(exc))
                    log.warning("embedding request failed (%s); retrying in %.1fs", exc, wait)
                    time.sleep(wait)
        raise EmbeddingError(_describe(last), retryable=True) from last

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        batches = [texts[i : i + BATCH_SIZE] for i in range(0, len(texts), BATCH_SIZE)]
        if len(batches) == 1:
            return self._request(batches[0])
        with ThreadPoolExecutor(max_workers=MAX_CONCURRENCY) as pool:
            results = list(pool.map(self._request, batches))
        return [vec for batch in results for vec in batch]

    def embed_query(self, text: str) -> list[float]:
        return self._request([text])[0]

    async def aembed_query(self, text: str) -> list[float]:
        last: Exception | None = None
        for attempt in range(MAX_ATTEMPTS):
            try:
                resp = await self._aclient.embeddings.create(
                    model=self.model_name, input=[text], dimensions=self.dimensions
                )
                return _normalise([resp.data[0].embedding], self.dimensions)[0]
            except Exception as exc:
                if not _retryable(exc):
                    raise EmbeddingError(_describe(exc), retryable=False) from exc
                last = exc
                if attempt + 1 < MAX_ATTEMPTS:
                    await asyncio.sleep(_delay(attempt, _retry_after(exc)))
        raise EmbeddingError(_describe(last), retryable=True) from last
