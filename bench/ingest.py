"""Ingestion benchmark: pipeline throughput vs bare extraction, peak RSS, embedder quality.

    .venv/bin/python bench/ingest.py [--skip-embed] [--skip-quality] [--pairs N]

1. Throughput over the corpus PDFs (those bare extraction can read) and the 872-page DOCX, in
   pages/s, for: bare text extraction (the fastest extractor we ship, with no processing),
   our pipeline without embeddings (extraction + normalisation + structure + token-aware
   chunking), and with the offline MiniLM embedder. Same files, same run; ratios are
   pipeline time / bare time. One cold pair, then N (default 21) warm bare/pipeline pairs,
   interleaved (order alternating), each run on a settled heap, the cost of freeing its
   garbage measured apart (see bench/ingest_timing.py for why). Printed: the best run of each
   side and their ratio, and the median [p25-p75] of the per-pair ratios (CPU, wall, and CPU
   with freeing the parsed file counted on both sides). The embedding run is done once.
2. Peak RSS of the pipeline on the 872-page DOCX, each variant in a fresh subprocess
   (ru_maxrss of that process, i.e. what a worker child would reach).
3. Offline embedder quality on ../shared/corpus/drf-qa-dev.jsonl: drf-docs chunked and embedded
   by the pipeline (titles = file names, as `manage.py ingest` does), chunks ranked by cosine
   with numpy; hit@5 and MRR@10 at document level.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
os.environ.setdefault("DEBUG", "true")  # no SECRET_KEY needed; nothing is served
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from datasets.extraction import ExtractionError  # noqa: E402
from datasets.ingestion import run_pipeline  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_timing import interleaved, spread  # noqa: E402  (bench/ingest_timing.py)

CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus"
DOCX = CORPUS / "office" / "handbook-872p.docx"
PAIRS = 21  # warm interleaved bare/pipeline pairs per file set (--pairs)
REF_RUNS = 5  # python-docx reference runs (~1 s each)
DOCX_PAGES = 872  # Word's page count for this file (python-docx has no layout)


def bare_pdf(path: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    chars = 0
    for i in range(len(doc)):
        page = doc[i]
        tp = page.get_textpage()
        chars += len(tp.get_text_range())
        tp.close()
        page.close()
    doc.close()
    return chars


def bare_docx(path: Path) -> int:
    """The fastest DOCX text we ship: python-docx opens the package, then the text of each body
    paragraph (w:t runs, tabs, breaks) straight from the XML, with no structure or cleaning."""
    import docx

    from datasets.extraction.docx import _P, _paragraph_text

    body = docx.Document(str(path)).element.body
    return sum(len(_paragraph_text(p)) for p in body.iter(_P))


def python_docx_reference(path: Path) -> int:
    """INGESTION.md's measurement: iter_inner_content() + .text (paragraphs only)."""
    import docx
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    return sum(len(i.text) for i in document.iter_inner_content() if isinstance(i, Paragraph))


def pdf_files() -> list[tuple[Path, int]]:
    import pypdfium2 as pdfium

    out = []
    for path in sorted((CORPUS / "pdf").glob("*.pdf")):
        try:
            doc = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError:
            continue  # the encrypted and the damaged file: nothing to compare
        out.append((path, len(doc)))
        doc.close()
    return out


def pipeline(files: list[tuple[Path, str]], embed: bool) -> int:
    chunks = 0
    for path, kind in files:
        try:
            drafts, _, _ = run_pipeline(
                path, kind, title=path.stem, chunk_size=200, chunk_overlap=30, embed=embed
            )
            chunks += len(drafts)
        except ExtractionError:
            pass  # image-only PDFs: no text, a clear failure in the product
    return chunks


def child(mode: str) -> None:
    """Run one pipeline variant on the DOCX and print this process's peak RSS."""
    if mode == "bare":
        bare_docx(DOCX)
    else:
        pipeline([(DOCX, "docx")], embed=(mode == "embed"))
    # VmHWM: this process image's peak RSS (ru_maxrss would carry over the parent's from fork).
    status = Path("/proc/self/status").read_text()
    hwm_kb = next(
        (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0
    )
    if not hwm_kb:
        hwm_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"mode": mode, "peak_rss_mb": round(hwm_kb / 1024, 1)}))


def peak_rss(mode: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode],
        capture_output=True, text=True, check=True, env=os.environ.copy(),
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def throughput(skip_embed: bool, pairs: int) -> None:
    pdfs = pdf_files()
    pdf_pages = sum(n for _, n in pdfs)
    pdf_kinds = [(p, "pdf") for p, _ in pdfs]
    print(f"## Throughput ({len(pdfs)} corpus PDFs = {pdf_pages} pages; 872-page DOCX)\n")
    print(
        f"1 cold + {pairs} warm interleaved bare/pipeline pairs (reference: {REF_RUNS} runs), "
        "each run on a settled heap (bench/ingest_timing.py).\n"
    )
    print(
        "| files | step | first run s | best s | pages/s (best) | x bare (best wall) "
        "| CPU s (best) | x bare (best CPU) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    base: dict[str, float] = {}

    def row(label: str, step: str, first: float, wall: float, cpu: float, pages: int) -> None:
        print(
            f"| {label} | {step} | {first:.3f} | {wall:.3f} | {pages / wall:,.0f} "
            f"| {wall / base['wall']:.2f} | {cpu:.3f} | {cpu / base['cpu']:.2f} |"
        )

    pair_rows = []
    for label, files, pages, bare_fn in (
        ("PDFs", pdf_kinds, pdf_pages, lambda: [bare_pdf(p) for p, _ in pdfs]),
        ("DOCX", [(DOCX, "docx")], DOCX_PAGES, lambda: bare_docx(DOCX)),
    ):
        steps = {"bare": bare_fn, "pipe": lambda files=files: pipeline(files, embed=False)}
        if label == "DOCX":
            steps["ref"] = lambda: python_docx_reference(DOCX)
        samples, ratios = interleaved(steps, pairs, REF_RUNS)
        base.update(wall=min(samples["bare"].wall), cpu=min(samples["bare"].cpu))
        names = {
            "bare": "bare extraction",
            "ref": "python-docx iter_inner_content (reference)",
            "pipe": "pipeline, no embeddings",
        }
        for key in ("bare", "ref", "pipe"):
            if key in samples:
                s = samples[key]
                row(label, names[key], s.wall[0], min(s.wall), min(s.cpu), pages)
        bare, pipe = samples["bare"], samples["pipe"]
        med = statistics.median
        pair_rows.append(
            f"| {label} | {pairs} | {med(bare.cpu[1:]):.3f} / {med(pipe.cpu[1:]):.3f} "
            f"| **{spread(ratios['cpu'])}** ({min(ratios['cpu']):.2f}-{max(ratios['cpu']):.2f}) "
            f"| {spread(ratios['wall'])} | {med(bare.free[1:]):.3f} / {med(pipe.free[1:]):.3f} "
            f"| {spread(ratios['cpu_free'])} |"
        )
        if not skip_embed:
            t0, c0 = time.perf_counter(), time.process_time()
            chunks = pipeline(files, embed=True)
            took, cpu = time.perf_counter() - t0, time.process_time() - c0
            step = f"pipeline + MiniLM ({chunks} chunks, {chunks / took:.1f} chunks/s)"
            row(label, step, took, took, cpu, pages)
    print()
    print("Pipeline (no embeddings) / bare extraction within each warm pair:\n")
    print(
        "| files | pairs | CPU s bare / pipeline (median) "
        "| CPU x bare, median [p25-p75] (min-max) | wall x bare "
        "| freeing the parsed file, CPU s bare / pipeline | CPU incl. freeing x bare |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(pair_rows))
    print()
    print("## Peak RSS on the 872-page DOCX (fresh process each)\n")
    print("| variant | peak RSS MB |")
    print("| --- | --- |")
    for mode in ("bare", "noembed", *(() if skip_embed else ("embed",))):
        print(f"| {mode} | {peak_rss(mode)} |")
    print()


def quality() -> None:
    import numpy as np

    from datasets.embeddings import get_embedder

    root = CORPUS / "drf-docs"
    texts: list[str] = []
    owners: list[str] = []
    vectors = []
    t0 = time.perf_counter()
    for path in sorted(root.rglob("*.md")):
        if path.name == "LICENSE.md":
            continue
        drafts, matrix, _ = run_pipeline(
            path, "markdown", title=path.stem, chunk_size=200, chunk_overlap=30
        )
        rel = str(path.relative_to(root))
        texts += [d.text for d in drafts]
        owners += [rel] * len(drafts)
        vectors.append(matrix)
    took = time.perf_counter() - t0
    matrix = np.concatenate(vectors)
    embedder = get_embedder()
    questions = [
        json.loads(line)
        for line in (CORPUS / "drf-qa-dev.jsonl").read_text().splitlines()
        if line.strip()
    ]
    hits = 0
    rr = 0.0
    for q in questions:
        qv = np.asarray(embedder.embed_query(q["question"]), dtype=np.float32)
        order = np.argsort(-(matrix @ qv))
        docs: list[str] = []
        for i in order:
            if owners[i] not in docs:
                docs.append(owners[i])
            if len(docs) >= 10:
                break
        top5_chunks = {owners[i] for i in order[:5]}
        hits += bool(top5_chunks & set(q["relevant"]))
        for rank, doc in enumerate(docs, 1):
            if doc in q["relevant"]:
                rr += 1 / rank
                break
    n = len(questions)
    print(f"## Offline embedder quality (drf-docs: {len(set(owners))} docs -> {len(texts)} chunks, "
          f"chunked + embedded in {took:.1f} s)\n")  # fmt: skip
    print("| method | dev hit@5 | dev MRR@10 |")
    print("| --- | --- | --- |")
    print(f"| {embedder.model_name} dense, cosine (numpy) | {hits / n:.2f} | {rr / n:.2f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--skip-embed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--pairs", type=int, default=PAIRS, help=f"default {PAIRS}")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    if args.child:
        child(args.child)
        return
    print(f"# bench/ingest.py  ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
          f"{os.cpu_count()} CPUs, EMBEDDING_THREADS={settings.EMBEDDING_THREADS}, "
          f"load avg {os.getloadavg()[0]:.1f})\n")  # fmt: skip
    throughput(args.skip_embed, args.pairs)
    if not args.skip_quality:
        quality()


if __name__ == "__main__":
    main()
