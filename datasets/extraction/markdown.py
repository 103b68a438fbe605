"""Markdown: headings become the heading path, code fences stay whole blocks, text as written.

Parsed with markdown-it-py (CommonMark) for structure; the block text is the source slice (minus
heading lines), so links and inline code read naturally and nothing is re-rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from datasets.extraction import Block, no_progress
from datasets.extraction.text import read_text


def extract_text(text: str, progress: Callable[[float], None] = no_progress) -> Iterator[Block]:
    """Blocks of Markdown ``text``; ``progress`` after parsing (most of the time) and before
    each block, by its position among the tokens (see ``datasets.extraction.extract``)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    lines = text.split("\n")
    tokens = md.parse(text)
    progress(0.6)
    step = 0.4 / max(len(tokens), 1)
    headings: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            level = int(token.tag[1])
            inline = tokens[i + 1]
            title = inline.content.strip().strip("#").strip()
            headings = [*headings[: level - 1], title]
            i += 3
            continue
        if (token.level == 0 and token.map and token.type.endswith("_open")) or token.type in {
            "fence",
            "code_block",
            "html_block",
            "hr",
        }:
            if token.type == "hr" or not token.map:
                i += 1
                continue
            start, end = token.map
            body = "\n".join(lines[start:end]).strip()
            if body:
                is_code = token.type in {"fence", "code_block"}
                progress(0.6 + step * i)
                yield Block(text=body, headings=tuple(headings), is_code=is_code)
            # Skip to the matching close token at the same nesting.
            if token.type.endswith("_open"):
                depth = 0
                while i < len(tokens):
                    if tokens[i].nesting == 1:
                        depth += 1
                    elif tokens[i].nesting == -1:
                        depth -= 1
                        if depth == 0:
                            break
                    i += 1
        i += 1


def strip_front_matter(text: str) -> str:
    """Drop a leading YAML front-matter block (``---`` ... ``---``): metadata, not prose."""
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1 and end < 4000:
            return text[end + 4 :].lstrip("-").lstrip("\n")
    return text


def extract(path: Path, progress: Callable[[float], None] = no_progress) -> Iterator[Block]:
    yield from extract_text(strip_front_matter(read_text(path)), progress)
