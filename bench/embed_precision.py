"""Chunk embeddings in int8 (onnxruntime, one chunk per call) vs float32 (numpy): speed and quality.

    .venv/bin/python bench/embed_precision.py [--skip-docx] [--rounds N]

1. drf-docs chunked as the pipeline does today (``run_pipeline(embed=False)``, titles = paths
   relative to drf-docs, dataset defaults 200/30), then embedded by: the float32 numpy pass
   (``embed_array`` in slices of ``ingestion.EMBED_BATCH``, as ingestion did), and the MiniLM
   layers quantised to int8 under onnxruntime with one chunk per call (1 and 2 intra-op
   threads). Wall and CPU seconds, chunks/s; the variants alternate over ``--rounds``.
2. Cosine of each chunk's int8 vector to its float32 vector (min / p1 / median).
3. drf-qa-dev.jsonl (20 questions, int8 question vectors as the server embeds them): vector
   search by numpy cosine over (a) the float32 chunks, (b) the int8 chunks; top-10 chunks ->
   their document titles; hit@5 = a relevant title among the first 5, MRR@10 = 1 / position of
   the first relevant title among the 10 (as bench/retrieval_measure.py ``quality()``).
4. The 872-page DOCX (office/handbook-872p.docx): chunks/s of the same variants.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
os.environ.setdefault("DEBUG", "true")  # no SECRET_KEY needed; nothing is served
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EMBEDDING_PROVIDER", "local")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402

from datasets.embedders import minilm_onnx  # noqa: E402
from datasets.embedders.minilm import MiniLMEmbedder  # noqa: E402
from datasets.filetypes import sniff  # noqa: E402
from datasets.ingestion import EMBED_BATCH, run_pipeline  # noqa: E402

CORPUS = BASE.parent / "shared" / "corpus"


def chunks_of(path: Path, title: str) -> list[str]:
    drafts, _, _ = run_pipeline(
        path, sniff(path, path.name), title=title, chunk_size=200, chunk_overlap=30, embed=False
    )
    return [d.text for d in drafts]


def fp32(embedder: MiniLMEmbedder, texts: list[str]) -> np.ndarray:
    out = np.empty((len(texts), 384), dtype=np.float32)
    for start in range(0, len(texts), EMBED_BATCH):
        part = texts[start : start + EMBED_BATCH]
        out[start : start + len(part)] = embedder.embed_array(part)
    return out


def int8(embedder: MiniLMEmbedder, texts: list[str], session) -> np.ndarray:
    out = np.empty((len(texts), 384), dtype=np.float32)
    for i, text in enumerate(texts):
        out[i] = embedder.embed_array([text], session=session)[0]
    return out


def timed(variants: dict, texts: list[str], rounds: int) -> tuple[dict, dict]:
    """{name: [(wall, cpu), ...]} over ``rounds`` alternating rounds, and the last vectors."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    vectors: dict[str, np.ndarray] = {}
    names = list(variants)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            w0, c0 = time.perf_counter(), time.process_time()
            vectors[name] = variants[name](texts)
            times[name].append((time.perf_counter() - w0, time.process_time() - c0))
    return times, vectors


def speed_table(times: dict, n: int) -> None:
    print("| variant | wall s (best / median) | CPU s (median) | chunks/s (best wall) | x fp32 |")
    print("| --- | --- | --- | --- | --- |")
    base = min(w for w, _ in times["fp32 numpy"])
    for name, runs in times.items():
        walls = sorted(w for w, _ in runs)
        cpus = sorted(c for _, c in runs)
        best = walls[0]
        print(f"| {name} | {best:.1f} / {walls[len(walls) // 2]:.1f} | "
              f"{cpus[len(cpus) // 2]:.1f} | {n / best:.1f} | {base / best:.2f} |")  # fmt: skip
    print()


def quality(matrix: np.ndarray, owners: list[str], qvecs: np.ndarray, questions) -> tuple:
    hits, rr = 0, 0.0
    for qv, q in zip(qvecs, questions, strict=True):
        ranked = [owners[i] for i in np.argsort(-(matrix @ qv), kind="stable")[:10]]
        relevant = set(q["relevant"])
        hits += any(t in relevant for t in ranked[:5])
        for i, t in enumerate(ranked, 1):
            if t in relevant:
                rr += 1 / i
                break
    return hits / len(questions), rr / len(questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-docx", action="store_true")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not minilm_onnx.available():
        sys.exit("onnx/onnxruntime are not installed: nothing to compare.")
    print(f"# bench/embed_precision.py ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
          f"{os.cpu_count()} CPUs, EMBEDDING_THREADS={settings.EMBEDDING_THREADS}, "
          f"load avg {os.getloadavg()[0]:.1f})\n")  # fmt: skip
    embedder = MiniLMEmbedder()
    s1 = minilm_onnx.build_session(embedder._layers, int8=True, threads=1)
    s2 = minilm_onnx.build_session(embedder._layers, int8=True, threads=2)
    variants = {
        "fp32 numpy": lambda texts: fp32(embedder, texts),
        "int8 onnxruntime, 1 chunk/call, 1 thread": lambda texts: int8(embedder, texts, s1),
        "int8 onnxruntime, 1 chunk/call, 2 threads": lambda texts: int8(embedder, texts, s2),
    }
    root = CORPUS / "drf-docs"
    texts: list[str] = []
    owners: list[str] = []
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root).as_posix()
        part = chunks_of(path, rel)
        texts += part
        owners += [rel] * len(part)
    print(f"## drf-docs: {len(set(owners))} documents, {len(texts)} chunks\n")
    times, vectors = timed(variants, texts, args.rounds)
    speed_table(times, len(texts))
    f, q1 = vectors["fp32 numpy"], vectors["int8 onnxruntime, 1 chunk/call, 1 thread"]
    cos = np.sum(f * q1, axis=1)
    same = np.array_equal(q1, vectors["int8 onnxruntime, 1 chunk/call, 2 threads"])
    print(f"cosine int8 vs fp32 chunk vectors: min {cos.min():.4f}, p1 "
          f"{np.percentile(cos, 1):.4f}, median {np.median(cos):.4f}, mean {cos.mean():.4f}; "
          f"int8 1 vs 2 threads bit-identical: {same}\n")  # fmt: skip
    questions = [
        json.loads(line)
        for line in (CORPUS / "drf-qa-dev.jsonl").read_text().splitlines()
        if line.strip()
    ]
    print(f"question precision: {embedder.query_precision}\n")
    qvecs = embedder.embed_queries([q["question"] for q in questions])
    print(f"## Vector search on drf-qa-dev.jsonl ({len(questions)} questions, numpy cosine)\n")
    print("| chunks | hit@5 | MRR@10 |")
    print("| --- | --- | --- |")
    for name, matrix in (("fp32 (today)", f), ("int8", q1)):
        hit, mrr = quality(matrix, owners, qvecs, questions)
        print(f"| {name} | {hit:.2f} | {mrr:.3f} |")
    print()
    if not args.skip_docx:
        path = CORPUS / "office" / "handbook-872p.docx"
        t0 = time.perf_counter()
        docx = chunks_of(path, path.stem)
        took = time.perf_counter() - t0
        print(f"## {path.name}: {len(docx)} chunks (extracted + chunked in {took:.1f} s)\n")
        times, _ = timed(variants, docx, 1)
        speed_table(times, len(docx))


if __name__ == "__main__":
    main()
