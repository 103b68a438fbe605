"""Text extraction, one module per format; each ``extract(path)`` yields ``Block``s in order.

Extractors never touch the network. They stream where the format allows (PDF page by page), so
a large document is never held as one big string. Failures users must understand raise
``ExtractionError`` with a sentence; the task stores it as the document's ``error``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ExtractionError(Exception):
    """A document that cannot be read; ``str(exc)`` is the sentence the user sees."""


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph-sized piece of text with where it sits in the document."""

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None
    is_code: bool = False


def normalise(text: str) -> str:
    """NFKC (ligatures), Unix line ends, no control characters except tab/newline."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub(" ", text)


def extract(path: Path, kind: str, *, title: str = "", info: dict | None = None) -> Iterator[Block]:
    """Blocks of the file at ``path`` of the given kind (see datasets.filetypes.KINDS).

    Extractors that know the page count up front (PDF) store it in ``info["pages"]`` before the
    first block, and enforce ``settings.INGEST_MAX_PAGES`` themselves.
    """
    if kind == "pdf":
        from datasets.extraction import pdf as module
    elif kind == "docx":
        from datasets.extraction import docx as module
    elif kind == "markdown":
        from datasets.extraction import markdown as module
    elif kind == "html":
        from datasets.extraction import html as module
    elif kind == "json":
        from datasets.extraction import json as module
    elif kind == "text":
        from datasets.extraction import text as module
    else:
        from datasets.extraction import unstructured_backend as module
    if kind == "pdf":
        yield from module.extract(path, info=info)
    else:
        yield from module.extract(path)
