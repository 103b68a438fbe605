"""The OpenAI-compatible embedder over real HTTP against a local stub; the local one offline."""

from __future__ import annotations

import http.server
import json
import threading
from contextlib import contextmanager

import numpy as np
import pytest

from datasets.embedders import openai as openai_embedder
from datasets.embedders.openai import OpenAIEmbedder
from datasets.embeddings import EmbeddingError


@contextmanager
def stub_server(script: list[int]):
    """An OpenAI-compatible /v1/embeddings stub answering with the statuses in ``script``
    (then 200s); records every request body."""
    requests: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(body)
            status = script.pop(0) if script else 200
            if status != 200:
                payload = json.dumps({"error": {"message": "nope", "type": "x"}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(payload)
                return
            dims = body.get("dimensions", 1536)
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": [float(len(t) + 1)] + [1.0] * (dims - 1),
                }
                for i, t in enumerate(body["input"])
            ]
            payload = json.dumps(
                {
                    "object": "list",
                    "data": data,
                    "model": body["model"],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch):
    monkeypatch.setattr(openai_embedder, "BASE_DELAY", 0.01)
    monkeypatch.setattr(openai_embedder, "BATCH_SIZE", 3)


def test_openai_embedder_batches_asks_for_384_dimensions_and_normalises():
    with stub_server([]) as (base, requests):
        emb = OpenAIEmbedder(
            model="text-embedding-3-small", dimensions=384, api_key="k", base_url=base
        )
        vectors = emb.embed_documents([f"text {i}" for i in range(7)])
    assert len(vectors) == 7
    assert all(len(v) == 384 for v in vectors)
    assert np.allclose(np.linalg.norm(np.asarray(vectors), axis=1), 1.0, atol=1e-5)
    assert len(requests) == 3  # batches of 3
    assert all(r["dimensions"] == 384 and r["model"] == "text-embedding-3-small" for r in requests)


def test_openai_embedder_retries_429_and_5xx_then_succeeds():
    with stub_server([429, 500, 503]) as (base, requests):
        emb = OpenAIEmbedder(model="m", dimensions=384, api_key="k", base_url=base)
        assert len(emb.embed_query("hello")) == 384
    assert len(requests) == 4


def test_openai_embedder_gives_up_with_a_retryable_error():
    with stub_server([500] * 10) as (base, requests):
        emb = OpenAIEmbedder(model="m", dimensions=384, api_key="k", base_url=base)
        with pytest.raises(EmbeddingError) as info:
            emb.embed_documents(["a"])
    assert info.value.retryable
    assert "HTTP 500" in str(info.value)
    assert len(requests) == openai_embedder.MAX_ATTEMPTS


def test_openai_embedder_does_not_retry_client_errors():
    with stub_server([400]) as (base, requests):
        emb = OpenAIEmbedder(model="m", dimensions=384, api_key="k", base_url=base)
        with pytest.raises(EmbeddingError) as info:
            emb.embed_documents(["a"])
    assert not info.value.retryable
    assert len(requests) == 1


def test_openai_embedder_async_query():
    import asyncio

    with stub_server([429]) as (base, requests):
        emb = OpenAIEmbedder(model="m", dimensions=384, api_key="k", base_url=base)
        vector = asyncio.run(emb.aembed_query("hello"))
    assert len(vector) == 384
    assert len(requests) == 2


@pytest.mark.django_db
def test_provider_outage_makes_the_pipeline_retry_not_fail(tenant, settings):
    from datasets import embeddings, services
    from datasets.ingestion import RetryableError, process_document
    from datasets.models import Document
    from datasets.tests.factories import DatasetFactory

    with stub_server([500] * 10) as (base, _):
        settings.EMBEDDING_PROVIDER = "openai"
        settings.EMBEDDING_MODEL = "stub-embed"
        settings.OPENAI_BASE_URL = base
        settings.OPENAI_API_KEY = "k"
        embeddings._cache.clear()
        try:
            dataset = DatasetFactory(tenant=tenant)
            doc, _ = services.document_create_from_text(
                tenant=tenant, dataset=dataset, text="hello world"
            )
            with pytest.raises(RetryableError):
                process_document(doc.pk)
            doc.refresh_from_db()
            assert doc.status == Document.Status.PROCESSING
            assert doc.error == ""
        finally:
            embeddings._cache.clear()


def test_local_embedder_refuses_tampered_weights(tmp_path):
    from datasets.embedders.minilm import MiniLMEmbedder, ModelUnavailable, model_dir

    for name in ("tokenizer.json", "config.json"):
        (tmp_path / name).write_bytes((model_dir() / name).read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        MiniLMEmbedder(tmp_path)
