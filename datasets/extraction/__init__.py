"""Text extraction, one module per format; each ``extract(path)`` yields ``Block``s in order
(DOCX: ``Section``s, runs of paragraphs under one heading path).

Extractors never touch the network. They stream where the format allows (PDF page by page), so
a large document is never held as one big string. Failures users must understand raise
``ExtractionError`` with a sentence; the task stores it as the document's ``error``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# Terminal escape sequences (ECMA-48), as in logs with colours: CSI (ESC [ ... final byte: colours,
# cursor moves), OSC (ESC ] ... BEL or ESC \: titles, hyperlinks), and the two- and three-byte
# ones (ESC ( B, ESC 7, ESC M). Removed whole: a lone ESC becoming a space would leave "[31m".
# An ESC that begins none of them (ESC then a space) is a control character like any other.
ANSI_ESCAPE = (
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)|[!-/]{1,3}[0-~]|[0-~])"
)
_ANSI = re.compile(ANSI_ESCAPE)


class ExtractionError(Exception):
    """A document that cannot be read; ``str(exc)`` is the sentence the user sees."""


class Block(NamedTuple):
    """A paragraph-sized piece of text with where it sits in the document.

    A named tuple rather than a frozen dataclass: a large document makes thousands of these
    and a frozen dataclass takes twice as long to build.
    """

    text: str
    headings: tuple[str, ...] = ()
    page: int | None = None
    is_code: bool = False


class Section(NamedTuple):
    """Consecutive paragraphs under one heading path, with no page numbers and no code.

    What an extractor of a long structured document (DOCX) yields instead of one ``Block`` per
    paragraph: the chunker takes either, and packs a Section exactly as it would the same
    texts as Blocks, at a fraction of the cost per paragraph.
    """

    texts: list[str]
    headings: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """NFKC (ligatures), Unix line ends, no terminal escape sequences, no control characters
    except tab/newline."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    return _CONTROL.sub(" ", text)


def normalise_all(texts: list[str], *, from_xml: bool = False) -> list[str]:
    """``[normalise(t) for t in texts]``, with the common case (nothing to change) found fast.

    Line ends and control characters are looked for once in the joined texts (no character's
    NFKC form contains one, so NFKC cannot bring one in); control characters in the UTF-8
    bytes, where they are single bytes no other character uses. ``from_xml``: the texts come
    from an XML parser, which refuses every control character but tab, LF, CR and DEL (as
    character references too), so only DEL needs looking for. NFKC is checked text by text,
    skipping ASCII texts (always normalised).
    """
    joined = "\n".join(texts)
    if "\r" in joined or ("\x7f" in joined if from_xml else _has_control(joined)):
        return [normalise(t) for t in texts]
    if joined.isascii():
        return texts
    is_normalized, nfkc = unicodedata.is_normalized, unicodedata.normalize
    return [t if t.isascii() or is_normalized("NFKC", t) else nfkc("NFKC", t) for t in texts]


def _has_control(text: str) -> bool:
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _CONTROL_BYTES)) != len(data)


def no_progress(fraction: float) -> None:
    """The ``progress`` of an extraction nobody watches."""


def extract(
    path: Path,
    kind: str,
    *,
    title: str = "",
    info: dict | None = None,
    progress: Callable[[float], None] | None = None,
) -> Iterator[Block | Section]:
    """Blocks of the file at ``path`` of the given kind (see datasets.filetypes.KINDS).

    Extractors that know the page count up front (PDF) store it in ``info["pages"]`` before the
    first block, and enforce ``settings.INGEST_MAX_PAGES`` themselves. The others (DOCX, HTML,
    Markdown, JSON, text) call ``progress`` now and then with how far they are (0..1, the
    consumer's work on the blocks yielded so far included), at points they pass anyway (after
    parsing, a section or a batch of paragraphs): a DOCX has no pages, and the worker must still
    show its progress move. ``progress`` may raise (the document was deleted): extraction stops.
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
    elif kind in {"docx", "markdown", "html", "json", "text"}:
        yield from module.extract(path, progress=progress or no_progress)
    else:
        yield from module.extract(path)
