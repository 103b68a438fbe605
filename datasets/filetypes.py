"""What a file is, decided by its bytes (magic numbers and content), never by its name alone.

The name only breaks ties between text formats (``.md`` vs ``.txt``). A ``.pdf`` that holds
plain text is ingested as text (its bytes say so); a ``.txt`` that holds a PNG is refused.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from chatbot_project.errors import APIError

KINDS = ("pdf", "docx", "markdown", "html", "json", "text", "pptx", "xlsx", "epub")
MIME_BY_KIND = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "markdown": "text/markdown",
    "html": "text/html",
    "json": "application/json",
    "text": "text/plain",
    # Only with the optional `unstructured` backend installed (extraction/unstructured_backend).
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "epub": "application/epub+zip",
}
KIND_BY_MIME = {mime: kind for kind, mime in MIME_BY_KIND.items()}
EXTENSION_BY_KIND = {
    "pdf": ".pdf",
    "docx": ".docx",
    "markdown": ".md",
    "html": ".html",
    "json": ".json",
    "text": ".txt",
    "pptx": ".pptx",
    "xlsx": ".xlsx",
    "epub": ".epub",
}
SNIFF_BYTES = 8192

# Zip bomb guard (DOCX): checked on the central directory before anything is decompressed.
# zipfile never yields more than an entry's declared size, so these bounds hold while reading.
ZIP_MAX_ENTRIES = 5000
ZIP_MAX_TOTAL_UNCOMPRESSED = 300 * 1024 * 1024
ZIP_MAX_RATIO = 200  # for entries above ZIP_RATIO_FROM uncompressed
# A real DOCX can compress past 200:1: a big table of empty cells (a form, a schedule) was
# 290:1 at 7 MB and was refused as a zip bomb. The total above bounds what any archive
# expands to; the ratio only refuses big parts that are almost all repetition.
ZIP_RATIO_FROM = 32 * 1024 * 1024

_BINARY_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"BZh": "a bzip2 archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
    b"\xd0\xcf\x11\xe0": "a legacy Office file (.doc/.xls); save it as .docx",
    b"RIFF": "a media file",
    b"OggS": "a media file",
    b"ID3": "an audio file",
}


def unsupported(what: str) -> APIError:
    return APIError(
        f"This file looks like {what}, which cannot be ingested. "
        "Upload PDF, DOCX, Markdown, HTML, JSON or plain text.",
        type="unsupported_media_type",
        status_code=415,
    )


def check_zip(path: Path) -> None:
    """Refuse archives that would expand beyond the bounds above (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        raise APIError("The DOCX file is damaged: its zip structure cannot be read.") from None
    if len(infos) > ZIP_MAX_ENTRIES:
        raise APIError(
            f"The DOCX file holds {len(infos)} parts, more than {ZIP_MAX_ENTRIES}; refused."
        )
    total = sum(i.file_size for i in infos)
    if total > ZIP_MAX_TOTAL_UNCOMPRESSED:
        raise APIError(
            f"The DOCX file would expand to {total // (1024 * 1024)} MB when unzipped, more than "
            f"{ZIP_MAX_TOTAL_UNCOMPRESSED // (1024 * 1024)} MB; it looks like a zip bomb, refused."
        )
    for info in infos:
        if info.file_size > ZIP_RATIO_FROM and info.file_size > ZIP_MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise APIError(
                f"The DOCX part {info.filename!r} compresses more than {ZIP_MAX_RATIO}:1; it looks "
                "like a zip bomb and was refused."
            )


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist()[: ZIP_MAX_ENTRIES + 1])
    except (zipfile.BadZipFile, OSError):
        raise unsupported("a damaged zip archive") from None
    if "word/document.xml" in names:
        return "docx"
    from datasets.extraction.unstructured_backend import available

    for marker, kind, what in (
        ("ppt/presentation.xml", "pptx", "a PowerPoint presentation"),
        ("xl/workbook.xml", "xlsx", "an Excel workbook"),
        ("META-INF/container.xml", "epub", "an EPUB book"),
    ):
        if marker in names:
            if available():
                return kind
            raise APIError(
                f"This file looks like {what}; reading it needs the optional `unstructured` "
                "extractor, which is not installed. Convert it to PDF or DOCX.",
                type="unsupported_media_type",
                status_code=415,
            )
    raise unsupported("a zip archive")


def _without_escape_sequences(head: bytes) -> bytes:
    """``head`` without terminal escape sequences (a log with colours: ESC [ 3 1 m): text, whose
    ESC bytes must not count as the control bytes of binary data (extraction removes them)."""
    if b"\x1b" not in head:
        return head
    from datasets.extraction import ANSI_ESCAPE

    return re.sub(ANSI_ESCAPE.encode(), b"", head)


def _looks_textual(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    head = _without_escape_sequences(head)
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls <= max(2, len(head) // 100)


def _looks_textual_characters(text: str) -> bool:
    """Decoded UTF-16/32: binary bytes behind a BOM decode to controls, undecodable units
    (U+FFFD), noncharacters and private-use characters, which real text hardly has."""
    if "\x1b" in text:
        from datasets.extraction import ANSI_ESCAPE

        text = re.sub(ANSI_ESCAPE, "", text)
    odd = sum(
        1
        for ch in text
        if (ch < " " and ch not in "\t\n\r\x0c")
        or ch in "\ufffd\ufffe\uffff"
        or "\ue000" <= ch <= "\uf8ff"
    )
    return odd <= max(2, len(text) // 100)


def text_kind(head: str, filename: str = "") -> str:
    """markdown / html / json / text for decoded text, using the name only between text kinds."""
    ext = Path(filename).suffix.lower()
    stripped = head.lstrip("\ufeff \t\r\n")
    lower = stripped[:512].lower()
    if lower.startswith(("<!doctype html", "<html", "<?xml")) or (
        ext in {".html", ".htm", ".xhtml"} and lower.startswith("<")
    ):
        return "html"
    if ext == ".json" or stripped.startswith(("{", "[")):
        if ext == ".json":
            return "json"
        try:
            json.loads(stripped)
            return "json"
        except (ValueError, RecursionError):
            pass  # a prefix, or not JSON: decided below
        if ext in {".json", ".jsonl"}:
            return "json"
    if ext in {".md", ".markdown", ".mdown", ".mkd", ".rst"}:
        return "markdown"
    if ext in {".html", ".htm"}:
        return "html"
    return "text"


def sniff(path: Path, filename: str = "") -> str:
    """The kind of the file at ``path`` (one of KINDS), or APIError 400/415."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        raise APIError("The file is empty; there is nothing to ingest.")
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(path)
        check_zip(path)
        return kind
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise unsupported(what)
    from datasets.extraction.text import decode_bytes, wide_encoding

    wide = wide_encoding(head)
    if wide is None:
        if not _looks_textual(head):
            raise unsupported("binary data")
        text = decode_bytes(head, partial=True)
    else:
        # UTF-16/32: judge the characters, not the bytes (half of which are zeros).
        text = head.decode(wide, errors="replace")
        if not _looks_textual_characters(text):
            raise unsupported("binary data")
    whole = path.stat().st_size <= SNIFF_BYTES  # (refused at once, like the same posted as
    if whole and not text.replace("\ufeff", "").strip():  # JSON, not failed by the worker)
        raise APIError("The file holds only whitespace; there is nothing to ingest.")
    kind = text_kind(text, filename)
    if whole and kind == "json" and _empty_json(text):
        raise APIError(
            'The JSON file holds an empty value ({}, [] or ""); there is nothing to ingest.'
        )
    return kind


def _empty_json(text: str) -> bool:
    try:
        value = json.loads(text.replace("\ufeff", ""))
    except (ValueError, RecursionError):
        return False  # JSON lines, or not JSON: the extractor decides
    return value in ({}, []) or (isinstance(value, str) and not value.strip())
