"""The embedder contract and the per-process choice of provider.

``get_embedder()`` returns the configured embedder (``settings.EMBEDDING_PROVIDER``): ``local``
(all-MiniLM-L6-v2 with numpy, offline; the default without an OpenAI key) or ``openai`` (any
OpenAI-compatible endpoint, asked for ``settings.EMBEDDING_DIMENSIONS`` dimensions). Every
vector is L2-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from django.conf import settings


class EmbeddingError(RuntimeError):
    """The provider failed; ``retryable`` says whether trying again later may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class Embedder(Protocol):
    model_name: str
    dimensions: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    async def aembed_query(self, text: str) -> list[float]: ...


_lock = threading.Lock()
_cache: dict[tuple[str, str], Embedder] = {}


def configured_model_name() -> str:
    """The model name new datasets record (without loading the model)."""
    if settings.EMBEDDING_PROVIDER == "local":
        from datasets.embedders.minilm import model_label

        return model_label()  # "-int8" when chunks are embedded in int8
    return settings.EMBEDDING_MODEL


def built_embedder() -> Embedder | None:
    """The configured embedder if it is already built (never builds it)."""
    return _cache.get((settings.EMBEDDING_PROVIDER, settings.EMBEDDING_MODEL))


def get_embedder() -> Embedder:
    """The configured embedder, built once per process (the local model loads in ~1 s)."""
    key = (settings.EMBEDDING_PROVIDER, settings.EMBEDDING_MODEL)
    embedder = _cache.get(key)
    if embedder is not None:
        return embedder
    with _lock:
        embedder = _cache.get(key)
        if embedder is None:
            if settings.EMBEDDING_PROVIDER == "local":
                from datasets.embedders.minilm import MiniLMEmbedder

                embedder = MiniLMEmbedder()
            else:
                from datasets.embedders.openai import OpenAIEmbedder

                embedder = OpenAIEmbedder(
                    model=settings.EMBEDDING_MODEL,
                    dimensions=settings.EMBEDDING_DIMENSIONS,
                    api_key=settings.OPENAI_API_KEY,
                    base_url=settings.OPENAI_BASE_URL,
                )
            _cache[key] = embedder
    return embedder
