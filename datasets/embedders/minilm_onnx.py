"""Question embeddings with the MiniLM encoder in int8, run by onnxruntime (CPU).

Why: a new question's forward pass was the largest single cost of a chat (bench/README.md, "Chat
streaming"): the numpy float32 pass reads all ~42 MB of layer weights per question, 11-13 ms on
one core here. The same layers quantised to int8 (per output channel, activations quantised
per call: onnxruntime's dynamic quantisation) take ~3 ms, in one call that releases the GIL.

Measured on the 20 dev questions (drf-qa-dev.jsonl): cosine to the float32 embedding >= 0.992
(mean 0.995); document-level hit@5 / MRR@10 of vector search over the float32 chunk embeddings
1.00 / 0.81, the same as float32 queries. (Per-tensor quantisation gave cosines down to 0.966.)
``QUERY_EMBEDDING_PRECISION=fp32`` turns this off. (onnxruntime in float32 was only 10-25%
faster than numpy on long texts: not used.)

Document chunks use the same int8 encoder, one chunk per call (2026-12-03: ~3.5x the chunks/s of
the numpy pass on 2 cores, cosine to float32 >= 0.989, dev-set hit@5 / MRR@10 1.00 / 0.897 vs
1.00 / 0.889 with float32 chunks); ``DOCUMENT_EMBEDDING_PRECISION=fp32`` keeps the numpy pass,
and the model label (``minilm.model_label``) tells the two kinds of stored vectors apart.

The graph is built at load time from the same safetensors weights (nothing is downloaded):
six BERT layers, input = the embedded tokens (word + position + type embeddings and their
LayerNorm, done in numpy: a table lookup) and the padding mask; output = the last
hidden states (mean pooling and normalisation stay in numpy). Before quantisation the graph
matches ``minilm._forward`` to float32 rounding (exact erf GELU, LayerNorm eps 1e-12).
"""

from __future__ import annotations

from typing import Any

import numpy as np

HEADS = 12
HIDDEN = 384
HEAD_DIM = HIDDEN // HEADS
EPS = 1e-12


def available() -> bool:
    """Whether onnx and onnxruntime are installed (found, not imported: importing onnx took
    ~1-3 s, and a server whose int8 model is cached never needs it)."""
    from importlib.util import find_spec

    return find_spec("onnx") is not None and find_spec("onnxruntime") is not None


def build_session(layers: list[dict[str, Any]], *, int8: bool = True, threads: int = 1) -> Any:
    """An onnxruntime InferenceSession: (x [B, L, 384], mask [B, L] int32) -> hidden [B, L, 384].

    ``layers`` are ``MiniLMEmbedder._layers`` (linear weights stored (in, out), contiguous)."""
    import onnxruntime as ort

    model = _int8_cached(layers) if int8 else encoder_model(layers).SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _cache_dir() -> Any:
    import os
    from pathlib import Path

    from django.conf import settings

    from chatbot_project import embedded

    configured = getattr(settings, "QUERY_MODEL_CACHE_DIR", "") or os.environ.get(
        "QUERY_MODEL_CACHE_DIR", ""
    )  # read like QUERY_EMBEDDING_PRECISION (minilm.py); tests set the setting
    return Path(configured) if configured else embedded.DATA_DIR / "cache"


def _int8_cached(layers: list[dict[str, Any]]) -> bytes:
    """The int8 model of ``layers``, kept on disk: building the float32 graph and quantising it
    took 3-12 s at each server start (2 cores, loaded), and the first question after a restart
    waited for it; read back, ~0.1 s. Keyed by the weights, this module's source (the graph it
    builds) and the onnx/onnxruntime versions. A cache that cannot be read or written is
    skipped (the model is built as before)."""
    import hashlib
    import inspect
    import logging
    import os
    import sys
    from importlib.metadata import version

    key = hashlib.sha256()
    key.update(f"{version('onnx')}/{version('onnxruntime')}".encode())
    key.update(inspect.getsource(sys.modules[__name__]).encode())
    for layer in layers:
        for name in sorted(layer):
            array = np.ascontiguousarray(layer[name])
            key.update(f"{name}{array.dtype}{array.shape}".encode())
            key.update(memoryview(array).cast("B"))
    path = _cache_dir() / f"minilm-int8-{key.hexdigest()[:32]}.onnx"
    try:
        return path.read_bytes()
    except OSError:
        pass
    quantized = _quantized(encoder_model(layers)).SerializeToString()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(quantized)
        partial.replace(path)  # atomic: another process never reads half a file
    except OSError as exc:
        logging.getLogger("chatbot.retrieval").info("int8 model not cached (%s)", exc)
    return quantized


def _quantized(model: Any) -> Any:
    """onnxruntime's dynamic int8 quantisation, per output channel (the tool works on files)."""
    import logging
    import tempfile
    from pathlib import Path

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The tool warns about pre-processing through the root logger itself (logging.warning):
    # those records are dropped while it runs. Setting the root logger's level instead, as
    # this did, silenced every logger below ERROR for the rest of the process (access log).
    root = logging.getLogger()
    root.addFilter(_errors_only)
    try:
        with tempfile.TemporaryDirectory(prefix="minilm-int8-") as tmp:
            src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
            onnx.save(model, str(src))
            quantize_dynamic(
                str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )  # fmt: skip
            return onnx.load(str(dst))
    finally:
        root.removeFilter(_errors_only)


def _errors_only(record: Any) -> bool:
    """A filter of the root logger: it sees only records logged on the root logger itself
    (other loggers' records reach its handlers without passing its filters)."""
    return record.levelno >= 40  # logging.ERROR


def encoder_model(layers: list[dict[str, Any]]) -> Any:
    """The float32 ONNX model of the encoder layers, attention and GELU as onnxruntime's fused
    CPU kernels (``com.microsoft`` MultiHeadAttention and Gelu): 54 nodes after optimisation
    instead of 150 for the same maths in standard ops, ~10-15% less time per question
    (1.9 vs 2.2 ms in int8, measured alternating; float32 outputs equal to the unfused graph)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    f32, ms = np.float32, "com.microsoft"
    x = "x"
    for n, layer in enumerate(layers):
        p = f"l{n}_"
        w = {k: const(p + k, np.ascontiguousarray(v, dtype=f32)) for k, v in layer.items()
             if not isinstance(v, tuple)}  # fmt: skip
        ln1 = [const(p + "ln1_w", layer["ln1"][0]), const(p + "ln1_b", layer["ln1"][1])]
        ln2 = [const(p + "ln2_w", layer["ln2"][0]), const(p + "ln2_b", layer["ln2"][1])]
        qkv = node("Add", [node("MatMul", [x, w["qkv_w"]], p + "qkv_mm"), w["qkv_b"]], p + "qkv")
        q, k, v = p + "q", p + "k", p + "v"
        nodes.append(helper.make_node("Split", [qkv], [q, k, v], axis=-1, num_outputs=3))
        # "mask": (batch, length) int32, 1 = token, 0 = padding (key_padding_mask).
        ctx = node("MultiHeadAttention", [q, k, v, "", "mask"], p + "ctx", domain=ms,
                   num_heads=HEADS)  # fmt: skip
        attn = node("Add", [node("MatMul", [ctx, w["o_w"]], p + "o_mm"), w["o_b"]], p + "attn")
        x = node("LayerNormalization", [node("Add", [attn, x], p + "res1"), *ln1], p + "x1",
                 axis=-1, epsilon=EPS)  # fmt: skip
        inter = node("Add", [node("MatMul", [x, w["i_w"]], p + "i_mm"), w["i_b"]], p + "inter")
        gelu = node("Gelu", [inter], p + "gelu", domain=ms)  # exact (erf) GELU
        out = node("Add", [node("MatMul", [gelu, w["out_w"]], p + "out_mm"), w["out_b"]],
                   p + "out")  # fmt: skip
        x = node("LayerNormalization", [node("Add", [out, x], p + "res2"), *ln2], p + "x2",
                 axis=-1, epsilon=EPS)  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "minilm_encoder",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "length", HIDDEN]),
            helper.make_tensor_value_info("mask", TensorProto.INT32, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", "length", HIDDEN])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid(ms, 1)]
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
