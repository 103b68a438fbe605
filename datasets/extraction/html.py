"""HTML with selectolax (lexbor): ~10x faster than BeautifulSoup on the 2.4 MB 10-K here.

Scripts, styles, templates, hidden blocks (``hidden``, ``aria-hidden``, ``display:none``: the
10-K carries 14k characters of hidden XBRL) are removed; h1..h6 build the heading path; block
elements become paragraphs, with a separator between text nodes so words don't glue together.
Bytes are decoded by us first (selectolax assumes UTF-8): BOM, then ``<meta charset>``, then
UTF-8, then a detector restricted to likely candidates.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from datasets.extraction import Block, ExtractionError, no_progress, normalise
from datasets.extraction.text import decode_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w\-]+)""", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_DROP = "script, style, noscript, template, svg, iframe, object, head, nav, footer"
_BLOCKS = {
    "p", "div", "li", "td", "th", "tr", "pre", "blockquote", "section", "article", "main",
    "dd", "dt", "figcaption", "caption", "address", "table", "ul", "ol", "dl", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "body", "html", "header", "aside", "br",
}  # fmt: skip
MAX_HTML_BYTES = 50 * 1024 * 1024
# Elements nested deeper than this make the file a failed document before it is parsed: the
# parser's time grows with the square of the depth (100k nested <div>s, 0.5 MB, held a worker
# ~4.5 minutes; 20k took 1.4 s, 5k 0.1 s). Real pages nest a few dozen levels.
MAX_HTML_DEPTH = 5000
# Linear scans (no pattern can run past the next "<"): hostile input must not make them slow.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^<>]*?(/?)>")
_RAW_OPEN = re.compile(r"<(script|style|textarea|title)\b", re.IGNORECASE)
# Void elements, and those whose end tag may be left out (an unclosed <p> or <li> does not
# nest the next one): they never deepen the tree.
_FLAT = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb",
    "rt", "rtc", "rp", "thead", "tbody", "tfoot", "colgroup", "caption", "html", "head", "body",
})  # fmt: skip


def meta_charset(data: bytes) -> str | None:
    """The charset a page's ``<meta>`` names (in its first 4 KB), or None. A UTF-16 or UTF-32
    one is None, as in HTML's own sniffing: a ``<meta>`` read as ASCII bytes proves the page is
    not in it (real UTF-16 has a BOM or its zero bytes, found first); decoding a UTF-8 page of
    an even length as UTF-16 made every character CJK."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    declared = match.group(1).decode("ascii", "ignore")
    with contextlib.suppress(LookupError):
        if codecs.lookup(declared).name.startswith(("utf-16", "utf-32")):
            return None
    return declared


_TITLE = re.compile(r"<title\b[^<>]*>([^<]{1,2000})</title", re.IGNORECASE)


def page_title(path: Path) -> str:
    """The ``<title>`` of the HTML page stored at ``path`` (read from its first 256 KB), or "":
    what a fetched page is called when the request named no title (not its URL)."""
    import html

    with path.open("rb") as f:
        head = f.read(256 * 1024)
    match = _TITLE.search(decode_html(head))
    if match is None:
        return ""
    return re.sub(r"\s+", " ", normalise(html.unescape(match.group(1)))).strip()[:500]


def decode_html(data: bytes) -> str:
    return decode_bytes(data, meta_charset(data))


def extract_html(html: str, progress: Callable[[float], None] = no_progress) -> Iterator[Block]:
    """Blocks of ``html``; ``progress`` once, when it is parsed and cleaned (the walk has no
    total to measure against; see ``datasets.extraction.extract``)."""
    from selectolax.lexbor import LexborHTMLParser

    depth = nesting_depth(html, MAX_HTML_DEPTH)
    if depth > MAX_HTML_DEPTH:
        raise ExtractionError(
            f"This HTML nests elements more than {MAX_HTML_DEPTH:,} levels deep (unclosed or "
            "generated tags?), which would take the parser minutes; fix its markup or upload its "
            "text instead."
        )
    tree = LexborHTMLParser(html)
    for node in tree.css(_DROP):
        node.decompose()
    for node in tree.css("[hidden], [aria-hidden=true], [style]"):
        attrs = node.attributes
        if (
            "hidden" in attrs
            or attrs.get("aria-hidden") == "true"
            or (_HIDDEN_STYLE.search(attrs.get("style") or ""))
        ):
            node.decompose()
    root = tree.body or tree.root
    if root is None:
        return
    progress(0.5)
    headings: list[str] = []
    buffer: list[str] = []

    def flush() -> Iterator[Block]:
        text = normalise(" ".join(buffer))
        text = re.sub(r"\s+", " ", text).strip()
        buffer.clear()
        if text:
            yield Block(text=text, headings=tuple(headings))

    # Iterative walk: deep HTML must not hit Python's recursion limit.
    stack = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            if tag in _BLOCKS:
                yield from flush()
            continue
        if tag == "-text":
            value = node.text_content
            if value and value.strip():
                buffer.append(value)
            continue
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            yield from flush()
            title = re.sub(r"\s+", " ", normalise(node.text(separator=" "))).strip()
            if title:
                level = int(tag[1])
                headings[:] = [*headings[: level - 1], title][:6]
            continue
        if tag == "pre":
            yield from flush()
            code = normalise(node.text()).strip("\n")
            if code.strip():
                yield Block(text=code, headings=tuple(headings), is_code=True)
            continue
        if tag in _BLOCKS:
            yield from flush()
        stack.append((node, True))
        children = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((c, False) for c in reversed(children))
    yield from flush()


def nesting_depth(html: str, limit: int) -> int:
    """How deep ``html``'s elements nest, as far as tags tell (script/style text skipped; void
    and optional-end elements never deepen it); stops counting once past ``limit``."""
    depth = deepest = 0
    for match in _TAG.finditer(_without_raw_text(html)):
        closing, name, self_closing = match.groups()
        if name.lower() in _FLAT:
            continue
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
    return deepest


def _without_raw_text(html: str) -> str:
    """``html`` without the text of script, style, textarea and title elements (their "<div>"
    strings are not elements); an unclosed one takes the rest of the file."""
    lower = html.lower()
    parts, pos = [], 0
    while (match := _RAW_OPEN.search(html, pos)) is not None:
        parts.append(html[pos : match.start()])
        end_tag = "</" + match.group(1).lower()
        end = lower.find(end_tag, match.end())
        if end < 0:
            return " ".join(parts)
        pos = end + len(end_tag)
    parts.append(html[pos:])
    return " ".join(parts)


def extract(path: Path, progress: Callable[[float], None] = no_progress) -> Iterator[Block]:
    if path.stat().st_size > MAX_HTML_BYTES:
        raise ExtractionError("The HTML file is larger than 50 MB; split it.")
    yield from extract_html(decode_html(path.read_bytes()), progress)
