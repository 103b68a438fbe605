"""PDF: pypdfium2 (fastest: ~1,100 pages/s here) page by page, with pypdf as the fallback.

pypdf is used for pages whose text is right-to-left (pdfium returns Arabic in visual, i.e.
reversed, order) and for the whole file when pdfium cannot open it. Encrypted files fail with
"password-protected PDF"; a file that opens with zero pages is a failure, never an empty success.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from datasets.extraction import Block, ExtractionError, normalise

_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_SOFT_HYPHEN = re.compile(r"\x02\s*\n?")
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


def _clean(text: str) -> str:
    # pdfium marks hyphens at line joins with \x02; rejoin those words.
    if "\x02" in text:
        text = _SOFT_HYPHEN.sub("", text)
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
    finally:
        doc.close()


def _extract_pypdf(path: Path, info: dict | None = None) -> Iterator[Block]:
    reader = _open_pypdf(path)
    _check_pages(len(reader.pages), info)
    for index, page in enumerate(reader.pages):
        try:
            text = page.extract_text() or ""
        except Exception:
            text = ""
        yield from _paragraphs(_clean(text), index + 1)
