"""PDF: pypdfium2 (fastest: ~1,100 pages/s here) page by page, with pypdf as the fallback.

pypdf is used for pages whose text is right-to-left (pdfium returns Arabic in visual, i.e.
reversed, order) and for the whole file when pdfium cannot open it. Encrypted files fail with
"password-protected PDF"; a file that opens with zero pages is a failure, never an empty success.
A form's filled-in text and choice fields (which pdfium's page text leaves out) follow the last
page as one "Form fields: name: value; ..." block.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datasets.extraction import Block, ExtractionError, normalise

_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# pdfium replaces a hyphen it removed at a line end (joining the word's halves on one line) with
# a marker: U+FFFE in the pdfium of pypdfium2 5.x, \x02 in older builds. A soft hyphen (U+00AD)
# is invisible unless the line breaks there, so it goes too, with any line break after it.
_HYPHEN_MARKERS = "\x02\ufffe"
_JOINED = re.compile(r"([\x02\ufffe\u00ad])[ \t]*(?:\r\n|\r|\n)?[ \t]*")
# Noncharacters (U+FDD0..U+FDEF and the last two code points of every plane, U+FFFF among them)
# are never text: dropped. C1 controls (broken ToUnicode maps) become spaces, as ``normalise``
# does with C0 controls (\x00 included).
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)
)
_STRAY = re.compile(f"[\x02\u00ad{_NONCHARACTERS}\x80-\x9f]")
_NONCHARACTER = re.compile(f"[{_NONCHARACTERS}]")
_C1 = re.compile(r"[\x80-\x9f]")
_SPACES = re.compile(r"[ \t]{2,}")
PASSWORD_MESSAGE = (
    "This is a password-protected PDF; remove the password (print to PDF) and upload it again."  # noqa: S105
)
DAMAGED_MESSAGE = "The PDF is damaged or not a valid PDF and could not be read."


def _open_pdfium(path: Path):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == 4 or "password" in str(exc).lower():
            raise ExtractionError(PASSWORD_MESSAGE) from None
        return None


def _open_pypdf(path: Path):
    import pypdf

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise ExtractionError(PASSWORD_MESSAGE)
            except ExtractionError:
                raise
            except Exception:
                raise ExtractionError(PASSWORD_MESSAGE) from None
        _ = len(reader.pages)
        return reader
    except ExtractionError:
        raise
    except Exception:
        raise ExtractionError(DAMAGED_MESSAGE) from None


def _join(match: re.Match[str]) -> str:
    """What replaces a hyphen marker or soft hyphen (and the line break after it): nothing, so
    "adip<U+FFFE>iscing" becomes "adipiscing"; but a hyphen when pdfium's marker stands between
    a non-capital and a capital ("Schwarz-Weiß", "non-English"): the halves of a word split by
    syllable never start the second with a capital, compounds do."""
    if match.group(1) in _HYPHEN_MARKERS:
        text, start, end = match.string, match.start(), match.end()
        if start > 0 and end < len(text) and text[end].isupper() and not text[start - 1].isupper():
            return "-"
    return ""


def _clean(text: str) -> str:
    """Words joined at pdfium's hyphen markers; no noncharacters or control characters."""
    if _STRAY.search(text):
        text = _JOINED.sub(_join, text)
        text = _NONCHARACTER.sub("", text)
        text = _C1.sub(" ", text)
    return normalise(text)


def _paragraphs(text: str, page: int, *, short_line_breaks: bool = False) -> Iterator[Block]:
    """The page's paragraphs: runs of lines between blank lines, each joined with single spaces
    (a newline inside a paragraph is layout, not meaning) and its runs of spaces/tabs made one.

    ``short_line_breaks`` is for pdfium, which separates lines with single newlines: a line
    shorter than 60 characters that ends a sentence, followed by a line starting with a
    capital, also ends a paragraph. One pass over the lines: the three regular expressions
    this replaces (exactly: see test_extraction_fast_paths) scanned every page character.
    """
    lines = text.split("\n")
    last = len(lines) - 1
    runs: list[list[str]] = []
    run: list[str] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            if run:
                runs.append(run)
                run = []
            continue
        run.append(line)
        if (
            short_line_breaks
            and len(stripped) < 60
            and stripped.endswith((".", ":", "!", "?"))
            and (lines[i + 1].strip() if i < last else "")[:1].isupper()
        ):
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    for run in runs:
        para = " ".join([line.strip(" \t") for line in run]) if len(run) > 1 else run[0]
        if "  " in para or "\t" in para:
            para = _SPACES.sub(" ", para)
        para = para.strip()
        if para:
            yield Block(para, (), page)


def _check_pages(count: int, info: dict | None) -> None:
    from django.conf import settings

    if count == 0:
        raise ExtractionError("The PDF has no pages.")
    limit = settings.INGEST_MAX_PAGES
    if count > limit:
        raise ExtractionError(
            f"The PDF has {count} pages, more than the {limit}-page limit; split it into "
            "smaller files."
        )
    if info is not None:
        info["pages"] = count


def extract(path: Path, info: dict | None = None) -> Iterator[Block]:
    doc = _open_pdfium(path)
    if doc is None:
        yield from _extract_pypdf(path, info)
        return
    reader = None
    try:
        _check_pages(len(doc), info)
        for index in range(len(doc)):
            page = doc[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            except Exception:
                text = ""
            finally:
                page.close()
            if _RTL.search(text):
                reader = reader or _open_pypdf(path)
                with contextlib.suppress(Exception):  # else keep pdfium's text for this page
                    text = reader.pages[index].extract_text() or text
            yield from _paragraphs(_clean(text), index + 1, short_line_breaks=True)
        has_form = False
        with contextlib.suppress(Exception):
            has_form = doc.get_formtype() != 0  # (pdfium.FORMTYPE_NONE)
        if has_form:
            yield from _form_values(reader or _open_pypdf(path), len(doc))
    finally:
        doc.close()


MAX_FORM_FIELDS = 2000


def _form_values(reader: Any, last_page: int) -> Iterator[Block]:
    """The filled-in values of a PDF form's text and choice fields, as one block after the last
    page ("Form fields: First Name: Alice; ..."): pdfium's page text leaves them out."""
    try:
        fields = reader.get_fields() or {}
    except Exception:  # a damaged form: the pages' text is still the document
        return
    values = []
    for name, field in list(fields.items())[:MAX_FORM_FIELDS]:
        value = field.get("/V") if field.get("/FT") in ("/Tx", "/Ch") else None
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        value = _clean(str(value or "")).strip()[:1000]
        if value:
            values.append(f"{_clean(str(name)).strip()}: {value}")
    if values:
        yield Block("Form fields: " + "; ".join(values), ("Form fields",), last_page)


def _extract_pypdf(path: Path, info: dict | None = None) -> Iterator[Block]:
    reader = _open_pypdf(path)
    _check_pages(len(reader.pages), info)
    for index, page in enumerate(reader.pages):
        try:
            text = page.extract_text() or ""
        except Exception:
            text = ""
        yield from _paragraphs(_clean(text), index + 1)
    yield from _form_values(reader, len(reader.pages))
