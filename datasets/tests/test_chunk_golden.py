"""Chunks of every corpus file stay byte-identical across changes to the ingestion hot path.

``chunk_hashes.json`` holds, per corpus file (pdf, office, drf-docs) and chunk size (120, 200,
512; overlap 30), the sha256 of the chunks' index, text, token count and metadata in order (or
of the failure sentence). It was recorded before the DOCX/chunking speed-ups of 2026-12-01; a
change that alters any chunk must say so and re-record it on purpose:
``RECORD_CHUNK_HASHES=1 pytest datasets/tests/test_chunk_golden.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from chatbot_project.errors import APIError
from datasets.extraction import ExtractionError
from datasets.filetypes import sniff
from datasets.ingestion import run_pipeline

HASHES = Path(__file__).with_name("chunk_hashes.json")
SIZES = (120, 200, 512)


def _digest(path: Path, size: int) -> str:
    try:
        kind = sniff(path, path.name)
        drafts, _, _ = run_pipeline(
            path, kind, title=path.stem, chunk_size=size, chunk_overlap=30, embed=False
        )
        rows = [[d.index, d.text, d.token_count, d.metadata] for d in drafts]
    except (ExtractionError, APIError) as exc:
        rows = ["failed", str(exc.detail) if isinstance(exc, APIError) else str(exc)]
    data = json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def test_corpus_chunks_are_unchanged(corpus):
    found = {}
    for sub in ("pdf", "office", "drf-docs"):
        for path in sorted((corpus / sub).rglob("*")):
            if path.is_file():
                rel = str(path.relative_to(corpus))
                for size in SIZES:
                    found[f"{rel}@{size}"] = _digest(path, size)
    if os.environ.get("RECORD_CHUNK_HASHES"):
        HASHES.write_text(json.dumps(found, indent=0, sort_keys=True) + "\n")
    expected = json.loads(HASHES.read_text())
    changed = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
    assert not changed, changed
