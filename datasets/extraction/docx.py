"""DOCX: paragraphs and tables in document order, read straight from the XML with lxml.

python-docx opens the package; the style names and the body are then read directly
(``w:p``, ``w:tbl``, content controls), which reads the same text as python-docx's
``iter_inner_content()`` + ``.text`` about twice as fast. Heading styles (``Heading 1``..``9``,
``Title``) build the heading path; a paragraph's style is read in the same walk as its text. A
table is one paragraph, cells joined by `` | ``, rows by newlines. The paragraphs under one
heading path are yielded together as a ``Section`` (normalised in one go), not one ``Block``
each: a 872-page handbook is ~4,500 paragraphs. The archive is checked against zip bombs again
here because a file can also arrive from a URL or the ``ingest`` command.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from datasets.extraction import ExtractionError, Section, no_progress, normalise, normalise_all

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _SDT, _SDT_CONTENT = f"{_W}p", f"{_W}tbl", f"{_W}sdt", f"{_W}sdtContent"
_T, _TAB, _BR, _CR = f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"
_TR, _TC, _PPR, _PSTYLE, _VAL = f"{_W}tr", f"{_W}tc", f"{_W}pPr", f"{_W}pStyle", f"{_W}val"
_STYLE, _STYLE_ID, _NAME = f"{_W}style", f"{_W}styleId", f"{_W}name"
_SAFE_ID = re.compile(r"[\w\-. ]{1,100}")
_PENDING_MAX = 500
_HEADING = re.compile(r"^(?:heading|überschrift|titre)\s*(\d)$", re.IGNORECASE)


def _heading_level(style_name: str) -> int | None:
    if not style_name:
        return None
    if style_name.lower() == "title":
        return 1
    match = _HEADING.match(style_name.strip())
    return int(match.group(1)) if match else None


def _paragraph_text(p) -> str:
    parts: list[str] = []
    for el in p.iter(_T, _TAB, _BR, _CR):
        tag = el.tag
        if tag == _T:
            if el.text:
                parts.append(el.text)
        elif tag == _TAB:
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _heading_styles(styles) -> dict[str, int]:
    """{style id: heading level} for the heading styles of the ``w:styles`` element, read
    straight from the XML (python-docx's style objects took 0.4 ms for 43 styles; its names
    differ from the XML's only in case, which ``_heading_level`` ignores)."""
    by_id = {}
    for style in styles.iterchildren(_STYLE):
        name = next(style.iterchildren(_NAME), None)
        level = _heading_level((name.get(_VAL) if name is not None else None) or "")
        style_id = style.get(_STYLE_ID)
        if level is not None and style_id and _SAFE_ID.fullmatch(style_id):
            by_id[style_id] = level
    return by_id


def _paragraph_text_and_style(p) -> tuple[str, str | None]:
    """``_paragraph_text(p)`` and the paragraph's own style id (``w:pPr/w:pStyle``), read in
    the same walk: only the few styled paragraphs cost anything more than reading the text.
    (A nested paragraph's style, in a text box, is not this paragraph's: checked by parent.)
    Kept apart from ``_paragraph_text``, the bare reader that bench/ingest.py times as the
    baseline and that must stay the minimum."""
    parts: list[str] = []
    style = None
    for el in p.iter(_T, _TAB, _BR, _CR, _PSTYLE):
        tag = el.tag
        if tag == _T:
            if el.text:
                parts.append(el.text)
        elif tag == _TAB:
            parts.append("\t")
        elif tag == _PSTYLE:
            if style is None:
                ppr = el.getparent()
                if ppr.tag == _PPR and ppr.getparent() is p:
                    style = el.get(_VAL)
        else:
            parts.append("\n")
    return "".join(parts), style


def _table_text(tbl) -> str:
    rows = []
    for tr in tbl.iter(_TR):
        cells: list[str] = []
        for tc in tr.iterchildren(_TC):
            value = " ".join(
                t for t in (_paragraph_text(p).strip() for p in tc.iter(_P)) if t
            ).replace("\n", " ")
            if value and (not cells or cells[-1] != value):
                cells.append(value)
        if cells:
            rows.append(" | ".join(cells))
    return normalise("\n".join(rows))


def _body_items(element) -> Iterable:
    """The ``w:p`` and ``w:tbl`` children of ``element`` in order, with those inside content
    controls (``w:sdt``); lxml's own iterator when there is no content control (the usual case:
    a generator would cost a resumption per paragraph)."""
    if next(element.iterchildren(_SDT), None) is None:
        return element.iterchildren(_P, _TBL)
    return _items_with_sdt(element)


def _items_with_sdt(element) -> Iterator:
    for child in element.iterchildren(_P, _TBL, _SDT):
        if child.tag != _SDT:
            yield child
        else:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _body_items(content)


# How far through the extraction (``progress``) each step ends: opening the package (parsing its
# XML: ~half of the bare reading), walking the body, then the consumer (the chunker) taking the
# Sections.
_OPENED, _WALKED = 0.3, 0.6


def extract(path: Path, progress: Callable[[float], None] = no_progress) -> Iterator[Section]:
    """Sections of the DOCX at ``path``; ``progress(fraction)`` after opening it, at each Section
    the walk closes (its position among the body's children) and before each Section yielded:
    a few hundred calls for the 872-page handbook, and one counter per body child."""
    import docx
    from docx.oxml.text.paragraph import CT_P

    from chatbot_project.errors import APIError
    from datasets.filetypes import check_zip

    try:
        check_zip(path)
    except APIError as exc:
        raise ExtractionError(str(exc.detail)) from None
    try:
        document = docx.Document(str(path))
        levels = _heading_styles(document.styles.element)
        body = document.element.body
    except Exception as exc:
        if "Excessive depth" in str(exc):  # lxml's cap (256 levels): tables nested ~60 deep
            raise ExtractionError(
                "The DOCX file nests its content deeper than the XML reader allows (256 "
                "levels: tables inside tables inside tables...); flatten the nested tables "
                "and upload it again."
            ) from None
        raise ExtractionError("The DOCX file is damaged and could not be opened.") from None
    progress(_OPENED)
    share = (_WALKED - _OPENED) / max(len(body), 1)  # children inside content controls: capped

    # The whole body is walked before the first Section is yielded: chunking interleaved with
    # the walk made the two evict each other's data from the CPU caches (~2 ms of ~125 on the
    # 872-page handbook); the texts are small next to the parsed tree, held until the end anyway.
    sections: list[Section] = []
    headings: tuple[str, ...] = ()
    pending: list[str] = []  # texts of the current section, normalised together when it ends
    position = 0
    for item in _body_items(body):
        position += 1
        # python-docx's class for w:p spares building ``item.tag`` (a new string) per paragraph
        if type(item) is not CT_P and item.tag == _TBL:
            text = _table_text(item)  # normalised (normalising twice changes nothing)
            if text:
                pending.append(text)
            continue
        text, style = _paragraph_text_and_style(item)
        text = text.strip()
        if not text:
            continue
        if style is not None and style in levels:
            text = normalise(text)
            if len(text) <= 300:
                if pending:
                    sections.append(Section(normalise_all(pending, from_xml=True), headings))
                    pending = []
                    progress(min(_OPENED + share * position, _WALKED))
                level = levels[style]
                headings = (*headings[: level - 1], text)
                continue
        pending.append(text)
        if len(pending) >= _PENDING_MAX:  # the chunker joins consecutive Sections back
            sections.append(Section(normalise_all(pending, from_xml=True), headings))
            pending = []
            progress(min(_OPENED + share * position, _WALKED))
    if pending:
        sections.append(Section(normalise_all(pending, from_xml=True), headings))
    step = (1.0 - _WALKED) / max(len(sections), 1)
    for index, section in enumerate(sections):
        progress(_WALKED + step * index)
        yield section
