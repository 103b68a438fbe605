"""The int8 question encoder is kept on disk: building the float32 graph, quantising it and
importing onnx took 3-12 s at every server start on this machine, and the first question after
a restart waited for it (a chat test's 10 s timeout tripped under load). Read back: ~0.3 s."""

from __future__ import annotations

import pytest

from datasets.embedders import minilm_onnx

pytestmark = pytest.mark.skipif(not minilm_onnx.available(), reason="onnxruntime not installed")


@pytest.fixture
def layers():
    from datasets.embeddings import get_embedder

    embedder = get_embedder()
    if not hasattr(embedder, "_layers"):
        pytest.skip("the local MiniLM embedder is not configured")
    return embedder._layers


def test_the_int8_model_is_built_once_then_read_back(settings, tmp_path, layers, monkeypatch):
    settings.QUERY_MODEL_CACHE_DIR = str(tmp_path)
    built = minilm_onnx._int8_cached(layers)
    cached = list(tmp_path.glob("minilm-int8-*.onnx"))
    assert len(cached) == 1
    assert not list(tmp_path.glob("*.tmp"))

    def no_rebuild(model):
        raise AssertionError("quantised again although cached")

    monkeypatch.setattr(minilm_onnx, "_quantized", no_rebuild)
    assert minilm_onnx._int8_cached(layers) == built
    session = minilm_onnx.build_session(layers, int8=True)
    assert [i.name for i in session.get_inputs()]


def test_an_unwritable_cache_only_costs_the_rebuild(settings, tmp_path, layers):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    settings.QUERY_MODEL_CACHE_DIR = str(blocked / "cache")
    assert minilm_onnx._int8_cached(layers)  # built, not cached, no error
