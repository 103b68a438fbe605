"""Optional backend for formats our extractors don't cover (pptx, xlsx, eml, epub).

Used only when ``unstructured`` is installed (``requirements-unstructured.txt``; not by default:
it adds 0.5-1.1 GB of packages, see INGESTION.md). Telemetry and its usage notice are turned off.

Never downloads anything: several of its partitioners (pptx, epub, eml: checked with 0.27.35)
want the spaCy model ``en_core_web_sm`` and, when it is missing, download and install it on the
first call. Without the model installed, that step is replaced by an ``ExtractionError`` whose
sentence says what to install, so those files fail with a reason and no connection is attempted;
partitioners that need no model (xlsx) work as they are. Checked 2026-12-01 with the network
blocked for the process: xlsx extracted, pptx failed with the sentence, 0 connection attempts.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

from datasets.extraction import Block, ExtractionError, normalise

MODEL_MISSING = (
    "Reading this file type needs the language model of the optional `unstructured` extractor "
    "(spaCy en_core_web_sm 3.8.0), which is not installed, and this server never downloads "
    "models while it runs; install it with the extractor or convert the file to PDF or DOCX."
)


def available() -> bool:
    return importlib.util.find_spec("unstructured") is not None


def model_installed() -> bool:
    return importlib.util.find_spec("en_core_web_sm") is not None


def _refuse_model_download() -> None:
    raise ExtractionError(MODEL_MISSING)


def _no_downloads() -> None:
    """Make unstructured's on-demand model install raise instead of downloading."""
    if model_installed():
        return
    try:
        from unstructured.nlp import tokenize  # type: ignore[import-not-found]
    except ImportError:  # this version has no NLP step: nothing to download
        return
    if not hasattr(tokenize, "_install_spacy_model"):  # another version: refuse up front
        raise ExtractionError(MODEL_MISSING)
    tokenize._install_spacy_model = _refuse_model_download


def extract(path: Path) -> Iterator[Block]:
    if not available():
        raise ExtractionError(
            "This file type needs the optional `unstructured` extractor, not installed."
        )
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
    os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
    _no_downloads()
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
