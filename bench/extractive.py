"""Offline evaluation of the ``extractive`` chat provider's sentence choice (no database).

    .venv/bin/python bench/extractive.py [--rev GIT_REV] [--top-k 5] [--show]

Two question sets, each over its corpus chunked and embedded by the ingestion pipeline and
retrieved by cosine with numpy (dense only: the bots' default ``hybrid`` mode adds keyword
ranks, so the sources can differ from a live chat's), top-k chunks as the answer's sources:

- ``drf``: ../shared/corpus/drf-qa-dev.jsonl over drf-docs (titles = file names, as
  ``manage.py ingest`` gives); scored: the answer's first sentence comes from a relevant
  document (and, for reference, whether any relevant document was among the sources at all);
- ``demo``: DEMO below, questions about docs/*.md + README.md (titles = the H1, as
  ``seed_demo``) with the sentence(s) a good answer should start with; scored: the first
  sentence is one of them, and one of them is among the answer's sentences;
- ``off-topic``: OFF_TOPIC below, questions neither corpus answers, over each corpus; counted:
  the answers that say nothing was found (no quote, no citation mark) - higher is better;
- ``follow-ups``: bench/followup_pairs.jsonl's second turns over drf-docs, retrieved with
  ``followup.retrieval_query`` (the first question, then the follow-up) as the chat path
  does; counted: answered (not "nothing found"), and answers whose first sentence comes from
  the follow-up's document.

``--rev`` scores ``conversations/extractive.py`` as it was at that revision too (the
"before"); the CPU time per answer is measured on the demo set (median of the answers).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import pickle
import re
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
os.environ.setdefault("DEBUG", "true")  # nothing is served or stored
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EMBEDDING_PROVIDER", "local")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from datasets.embeddings import get_embedder  # noqa: E402
from datasets.ingestion import run_pipeline  # noqa: E402
from datasets.retrieval import RetrievedChunk  # noqa: E402

CORPUS = BASE.parent / "shared" / "corpus"

# (question, sentences a good answer starts with: any one of them, by its beginning)
DEMO: list[tuple[str, tuple[str, ...]]] = [
    ("How do I run the platform?", ("`make run` creates a virtual environment",)),
    ("How do I run the tests?", ("The tests use the real embedded PostgreSQL",
                                 "`make test` runs everything against the real embedded")),
    ("How do I use my own PostgreSQL and Redis?", ("Set `DATABASE_URL` (PostgreSQL 15+",)),
    ("Which file formats can I upload?", ("You can upload PDF, DOCX, Markdown, HTML, JSON",
                                          "Documents can be PDF, DOCX, Markdown")),
    ("How do I authenticate with an API key?", ("Send an API key as `Authorization: Bearer",)),
    ("What happens when a re-ingest fails?", ("If a re-ingest of a document that was `ready`",
                                              "A `ready` document whose re-ingest fails")),
    ("How do I add the widget to my web page?", ("The widget adds a floating chat button",)),
    ("Which permissions should a browser key have?", ("Give it only the `chat` permission",)),
    ("How large can an uploaded file be?", ("Uploads larger than `MAX_UPLOAD_BYTES`",)),
    ("What happens if a worker dies while processing a document?",
     ("If a worker dies in the middle of a document",)),
    ("What must I do after changing the embedding model?",
     ("Changing the embedding model makes existing vectors incomparable",)),
    ("Does the platform work without an OpenAI key?",
     ("Without `OPENAI_API_KEY` the platform runs fully offline",)),
    ("How do I get the answer streamed?", ("Add `\"stream\": true`",)),
    ("What is the default rate limit?", ("`RATE_LIMIT_DEFAULT` (default `120/m`)",)),
]  # fmt: skip


# Questions nobody's documentation here answers (asked over each corpus).
OFF_TOPIC = [
    "How do I reset my password?",
    "What is the capital of France?",
    "Who won the 2018 World Cup?",
    "How do I bake sourdough bread?",
    "What's the weather like tomorrow?",
    "Can you recommend a good movie?",
    "How tall is Mount Everest?",
    "What is the boiling point of water?",
    "How do I cancel my subscription?",
    "Tell me a joke about cats.",
]


def corpus(files: list[Path], root: Path, title_of) -> tuple[list[RetrievedChunk], np.ndarray]:
    chunks: list[RetrievedChunk] = []
    vectors = []
    for path in files:
        drafts, matrix, _ = run_pipeline(
            path, "markdown", title=title_of(path), chunk_size=200, chunk_overlap=30
        )
        rel = str(path.relative_to(root))
        chunks += [
            RetrievedChunk(chunk_id=f"{rel}#{d.index}", document_id=rel,
                           document_title=title_of(path), text=d.text, score=0.0,
                           metadata=d.metadata)
            for d in drafts
        ]  # fmt: skip
        vectors.append(matrix)
    return chunks, np.concatenate(vectors)


def sources(question: str, chunks, matrix, top_k: int) -> list[RetrievedChunk]:
    qv = np.asarray(get_embedder().embed_query(question), dtype=np.float32)
    sims = matrix @ qv
    out = []
    for i in np.argsort(-sims)[:top_k]:
        c = chunks[i]
        out.append(RetrievedChunk(**{**c.as_dict(), "score": float(sims[i])}))
    return out


_MARK = re.compile(r" \[(\d+)\](?= |$)")


def cited(answer: str) -> list[tuple[str, int]]:
    """(sentence, source number) in the answer's order."""
    body = answer.split(": ", 1)[1] if answer.startswith("From the documentation") else answer
    out, start = [], 0
    for m in _MARK.finditer(body):
        out.append((body[start : m.start()].strip(), int(m.group(1))))
        start = m.end()
    return out


def load_module(rev: str | None) -> types.ModuleType:
    if rev is None:
        import conversations.extractive as mod

        return mod
    code = subprocess.run(
        ["git", "show", f"{rev}:conversations/extractive.py"], cwd=BASE, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    mod = types.ModuleType(f"extractive_{rev}")
    exec(compile(code, f"extractive@{rev}", "exec"), mod.__dict__)
    return mod


def answer(mod, question: str, srcs, followed: str = "") -> str:
    if followed and "followed" in inspect.signature(mod.extractive_answer).parameters:
        return mod.extractive_answer(question, srcs, followed=followed)
    return mod.extractive_answer(question, srcs)  # (a revision before ``followed``)


def nothing_found(text: str) -> bool:
    return not _MARK.search(text)


def side_sets(mod, off, follow, show: bool) -> dict[str, int]:
    """Off-topic answers that found nothing; follow-ups answered, and from their document."""
    found_nothing = answered = on_doc = 0
    for q, label, srcs in off:
        text = answer(mod, q, srcs)
        found_nothing += nothing_found(text)
        if show:
            print(f"off-{label} {'+' if nothing_found(text) else '-'} {q}\n    {text[:150]}")
    for pair, query, srcs in follow:
        text = answer(mod, pair["follow_up"], srcs, followed=query)
        parts = cited(text)
        answered += bool(parts)
        first_doc = srcs[parts[0][1] - 1].document_id if parts else ""
        on_doc += first_doc in pair["relevant"]
        if show:
            print(f"follow {'+' if first_doc in pair['relevant'] else '-'} {pair['follow_up']}"
                  f"\n    {parts[0][0][:150] if parts else text[:150]} ({first_doc})")  # fmt: skip
    return {"off_nothing": found_nothing, "follow_answered": answered, "follow_doc": on_doc}


def evaluate(mod, drf, demo, show: bool) -> dict[str, float]:
    hits = reachable = 0
    for q, srcs in drf:
        parts = cited(answer(mod, q["question"], srcs))
        docs = {s.document_id for s in srcs}
        reachable += bool(docs & set(q["relevant"]))
        first_doc = srcs[parts[0][1] - 1].document_id if parts else ""
        hits += first_doc in q["relevant"]
        if show:
            print(f"drf {'+' if first_doc in q['relevant'] else '-'} {q['question']}\n"
                  f"    {parts[0][0][:150] if parts else ''} ({first_doc})")  # fmt: skip
    first = anywhere = 0
    cpu: list[float] = []
    for (q, good), srcs in zip(DEMO, demo, strict=True):
        c0 = time.process_time()
        text = answer(mod, q, srcs)
        cpu.append(time.process_time() - c0)
        parts = [p[0] for p in cited(text)]
        ok = [any(p.startswith(g) for g in good) for p in parts]
        first += bool(ok and ok[0])
        anywhere += any(ok)
        if show:
            print(f"demo {'+' if ok and ok[0] else '-'} {q}\n    {parts[0][:150] if parts else ''}")
    for (q, _), srcs in zip(
        DEMO, demo, strict=True
    ):  # warm timing (the model's first use is not counted)
        c0 = time.process_time()
        answer(mod, q, srcs)
        cpu.append(time.process_time() - c0)
    return {
        "drf_first": hits / len(drf), "drf_reachable": reachable / len(drf),
        "demo_first": first / len(DEMO), "demo_any": anywhere / len(DEMO),
        "cpu_ms": 1000 * statistics.median(cpu[len(DEMO):]),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", help="also score conversations/extractive.py at this revision")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print each question's first sentence")
    parser.add_argument("--cache", type=Path, help="keep the retrieved sources in this file")
    args = parser.parse_args()
    cached = pickle.loads(args.cache.read_bytes()) if args.cache and args.cache.exists() else ()
    if len(cached) == 4:
        drf, demo, off, follow = cached
    else:  # (none, or one written before the off-topic and follow-up sets)
        drf, demo, off, follow = retrieved(args.top_k)
        if args.cache:
            args.cache.write_bytes(pickle.dumps((drf, demo, off, follow)))
    print(
        f"# bench/extractive.py ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, "
        f"{os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.1f}, top_k {args.top_k})\n"
    )
    print("| code | drf: 1st sentence from a relevant doc | drf: a relevant doc among the "
          "sources | demo: 1st sentence the expected | demo: expected among the sentences "
          "| CPU ms per answer (median) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- |")
    side = []
    for label, rev in ((args.rev, args.rev), ("working tree", None)):
        if label is None:
            continue
        mod = load_module(rev)
        r = evaluate(mod, drf, demo, args.show)
        print(f"| {label} | {r['drf_first']:.2f} ({round(r['drf_first'] * len(drf))}/{len(drf)}) "
              f"| {r['drf_reachable']:.2f} | {r['demo_first']:.2f} "
              f"({round(r['demo_first'] * len(DEMO))}/{len(DEMO)}) | {r['demo_any']:.2f} "
              f"| {r['cpu_ms']:.2f} |")  # fmt: skip
        side.append((label, side_sets(mod, off, follow, args.show)))
    print(
        '\n| code | off-topic: "nothing found" | follow-ups: answered '
        "| follow-ups: 1st sentence from their document |\n| --- | --- | --- | --- |"
    )
    for label, r in side:
        print(f"| {label} | {r['off_nothing']}/{len(off)} | {r['follow_answered']}/{len(follow)} "
              f"| {r['follow_doc']}/{len(follow)} |")  # fmt: skip


def retrieved(top_k: int) -> tuple[list, list, list, list]:
    from conversations.followup import retrieval_query

    root = CORPUS / "drf-docs"
    files = [p for p in sorted(root.rglob("*.md")) if p.name != "LICENSE.md"]
    chunks, matrix = corpus(files, root, lambda p: p.stem)
    questions = [json.loads(x) for x in (CORPUS / "drf-qa-dev.jsonl").read_text().splitlines() if x]
    drf = [(q, sources(q["question"], chunks, matrix, top_k)) for q in questions]
    off = [(q, "drf", sources(q, chunks, matrix, top_k)) for q in OFF_TOPIC]
    pairs = (BASE / "bench" / "followup_pairs.jsonl").read_text().splitlines()
    follow = []
    for pair in (json.loads(x) for x in pairs if x.strip()):
        query = retrieval_query(pair["follow_up"], [{"role": "user", "content": pair["first"]}])
        follow.append((pair, query, sources(query, chunks, matrix, top_k)))
    demo_files = [*sorted((BASE / "docs").glob("*.md")), BASE / "README.md"]

    def h1(path: Path) -> str:
        first = path.read_text().splitlines()[0]
        return first.lstrip("# ").strip() if first.startswith("# ") else path.stem

    chunks, matrix = corpus(demo_files, BASE, h1)
    demo = [sources(q, chunks, matrix, top_k) for q, _ in DEMO]
    off += [(q, "demo", sources(q, chunks, matrix, top_k)) for q in OFF_TOPIC]
    return drf, demo, off, follow


if __name__ == "__main__":
    main()
