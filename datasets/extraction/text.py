"""Plain text, and the character-set decoding every text format shares.

Order (INGESTION.md): a BOM, then a declared charset (HTTP header / ``<meta charset>``), then
UTF-8, then charset-normalizer restricted to likely candidates: unrestricted it guessed cp1250
for cp1252 files and garbled "très" into "trčs".
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from datasets.extraction import Block, ExtractionError, no_progress, normalise

LIKELY_ENCODINGS = ["utf_8", "cp1252", "latin_1", "utf_16"]
_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
MAX_TEXT_BYTES = 200 * 1024 * 1024


def wide_encoding(data: bytes) -> str | None:
    """The UTF-16/32 codec of ``data``, from its BOM or, without one, from the zero bytes that
    mostly-ASCII UTF-16 has at every other position (Windows' "Unicode" text, PowerShell's
    ``>``); None for anything else. Such text is full of NUL bytes, so it must be recognised
    before the bytes are judged binary."""
    for bom, encoding in _BOMS[1:]:
        if data.startswith(bom):
            return encoding
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 4:
        return None
    even_zeros = sample[0 : pairs * 2 : 2].count(0)
    odd_zeros = sample[1 : pairs * 2 : 2].count(0)
    if odd_zeros >= 0.9 * pairs and even_zeros <= 0.1 * pairs:
        return "utf-16-le"
    if even_zeros >= 0.9 * pairs and odd_zeros <= 0.1 * pairs:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, declared: str | None = None, *, partial: bool = False) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig", errors="replace")
    wide = wide_encoding(data)
    if wide is not None:
        return data.decode(wide, errors="replace")
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sniffed prefix may end inside a multi-byte character.
        if partial and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8")
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=LIKELY_ENCODINGS).best()
    if best is not None:
        return str(best)
    return data.decode("cp1252", errors="replace")


def read_text(path: Path, declared: str | None = None) -> str:
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise ExtractionError("The text file is larger than 200 MB; split it into smaller files.")
    return normalise(decode_bytes(path.read_bytes(), declared))


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def extract(path: Path, progress: Callable[[float], None] = no_progress) -> Iterator[Block]:
    """One Block per paragraph (text between blank lines); ``progress`` after reading the file
    and every 256 paragraphs (see ``datasets.extraction.extract``)."""
    parts = _PARAGRAPH_BREAK.split(read_text(path))
    progress(0.3)
    step = 0.7 / len(parts)
    for index, part in enumerate(parts):
        if not index & 255:
            progress(0.3 + step * index)
        para = part.strip()
        if para:
            yield Block(text=para)
