"""Optional backend for formats our extractors don't cover (pptx, xlsx, eml, epub).

Used only when ``unstructured`` is installed (with its models: offline its first call otherwise
tries to download a spaCy model). Telemetry is turned off. Not installed by default: it adds
0.5-1.1 GB of packages (see INGESTION.md).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

from datasets.extraction import Block, ExtractionError, normalise


def available() -> bool:
    return importlib.util.find_spec("unstructured") is not None


def extract(path: Path) -> Iterator[Block]:
    if not available():
        raise ExtractionError(
            "This file type needs the optional `unstructured` extractor, not installed."
        )
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
    from unstructured.partition.auto import partition  # type: ignore[import-not-found]

    headings: list[str] = []
    for element in partition(filename=str(path)):
        text = normalise(str(element)).strip()
        if not text:
            continue
        if element.category == "Title":
            headings = [text][:1]
            continue
        page = getattr(element.metadata, "page_number", None)
        yield Block(text=text, headings=tuple(headings), page=page)
