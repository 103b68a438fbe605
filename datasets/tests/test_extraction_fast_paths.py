"""The ingestion hot path's shortcuts give exactly what the plain forms give.

``normalise_all`` checks a batch at once, the DOCX extractor yields ``Section``s (runs of
paragraphs) instead of one ``Block`` each, PDF pages are cut into paragraphs in one pass
over their lines, sentences are cut without a look-behind and chunks packed by bisection:
each is compared here with the straightforward form on awkward input.
"""

from __future__ import annotations

import random
import re

import pytest

from datasets import chunking
from datasets.chunking import chunk_blocks
from datasets.extraction import Block, Section, normalise, normalise_all
from datasets.extraction.pdf import _paragraphs

AWKWARD = [
    "plain ascii",
    "non\xa0breaking",  # NFKC: a space
    "ﬁne ligature",
    "e\u0301 combining",
    "\u0301 leading mark",
    "cr\r\nlf\rcr",
    "tab\tand\nnewline",
    "del\x7fchar",
    "nul\x00and\x1fcontrols",
    "c1\x85next line",
    "curly “quotes”",
    "x² and ½",
    "",
]


def _draft_rows(drafts):
    return [(d.index, d.text, d.token_count, d.metadata) for d in drafts]


def test_normalise_all_equals_normalising_each_text():
    rng = random.Random(7)
    for _ in range(2000):
        texts = [rng.choice(AWKWARD) + rng.choice(AWKWARD) for _ in range(rng.randint(1, 4))]
        assert normalise_all(texts) == [normalise(t) for t in texts]
    xml_safe = [t for t in AWKWARD if not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", t)]
    for _ in range(2000):
        texts = [rng.choice(xml_safe) + rng.choice(xml_safe) for _ in range(rng.randint(1, 4))]
        assert normalise_all(texts, from_xml=True) == [normalise(t) for t in texts]


@pytest.mark.parametrize("section_chars", [200_000, 300])
def test_sections_chunk_like_the_same_paragraphs_as_blocks(monkeypatch, section_chars):
    monkeypatch.setattr(chunking, "_SECTION_CHARS", section_chars)  # also cut long sections
    rng = random.Random(section_chars)
    words = ["the", "serializer", "validates.", "Data!", "über", "x" * 30, "日本語", " ", "\n"]
    for _ in range(200):
        items, blocks = [], []
        headings: tuple[str, ...] = ("Guide",)
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.3:
                headings = rng.choice([(), ("Guide",), ("Guide", "Fields")])
            texts = [
                " ".join(rng.choice(words) for _ in range(rng.choice([0, 3, 40, 300])))
                for _ in range(rng.randint(0, 6))
            ]
            if rng.random() < 0.5:
                items.append(Section(texts, headings))
            else:
                items += [Block(t, headings) for t in texts]
            blocks += [Block(t, headings) for t in texts]
        for size, overlap in ((64, 16), (200, 30)):
            assert _draft_rows(
                chunk_blocks(items, title="Doc", chunk_size=size, overlap=overlap)
            ) == _draft_rows(chunk_blocks(blocks, title="Doc", chunk_size=size, overlap=overlap))


def _paragraphs_plainly(text: str, page: int, short_line_breaks: bool) -> list[tuple]:
    """The former implementation: a pass to mark short-line breaks, then regular expressions."""
    if short_line_breaks:
        lines = text.split("\n")
        out = []
        for i, line in enumerate(lines):
            out.append(line)
            stripped = line.strip()
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            ends = stripped.endswith((".", ":", "!", "?"))
            if stripped and ends and len(stripped) < 60 and nxt[:1].isupper():
                out.append("")
        text = "\n".join(out)
    paras = []
    for para in re.split(r"\n\s*\n", text):
        para = re.sub(r"[ \t]*\n[ \t]*", " ", para).strip()
        para = re.sub(r"[ \t]{2,}", " ", para)
        if para:
            paras.append((para, (), page, False))
    return paras


def test_pdf_page_paragraphs_equal_the_regular_expression_form():
    rng = random.Random(3)
    pieces = ["Word", "end.", "Next", "a", " ", "  ", "\t", "\n", "\n", "\n \n", "\u2028", "x" * 70]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        for short in (False, True):
            got = [tuple(b) for b in _paragraphs(text, 4, short_line_breaks=short)]
            assert got == _paragraphs_plainly(text, 4, short), repr(text)


def test_docx_headings_tables_and_long_heading_paragraphs(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Handbook", level=1)
    document.add_paragraph("Welcome\xa0aboard.")
    document.add_heading("Leave", level=2)
    document.add_paragraph("Ask your manager.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Days"
    table.rows[0].cells[1].text = "25"
    document.add_heading("L" * 301, level=2)  # too long for a heading: kept as text
    document.add_heading("Pay", level=1)
    document.add_paragraph("Monthly.")
    path = tmp_path / "handbook.docx"
    document.save(path)

    from datasets.extraction import extract

    items = list(extract(path, "docx"))
    assert all(isinstance(item, Section) for item in items)
    flat = [(t, item.headings) for item in items for t in item.texts]
    assert flat == [
        ("Welcome aboard.", ("Handbook",)),
        ("Ask your manager.", ("Handbook", "Leave")),
        ("Days | 25", ("Handbook", "Leave")),
        ("L" * 301, ("Handbook", "Leave")),
        ("Monthly.", ("Pay",)),
    ]


def test_sentences_equal_the_look_behind_split():
    old = re.compile(r"(?<=[.!?。])\s+(?=\S)")
    rng = random.Random(5)
    alphabet = ["a", "b", ".", "!", "?", "。", " ", "  ", "\n", "\t", "\u3000", "\u2028", "é"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert chunking.sentences(text) == old.split(text), repr(text)


def _pack_step_by_step(counts, budget, overlap):
    """The packing loop as it was before ``_pack`` bisected (one step per unit)."""
    ranges, start, used = [], 0, 0
    for i, tokens in enumerate(counts):
        if i > start and used + tokens > budget:
            ranges.append((start, i, used))
            k, carried = i - 1, 0
            while k > start and carried + counts[k] <= overlap:
                carried += counts[k]
                k -= 1
            start, used = (i, 0) if carried + tokens > budget else (k + 1, carried)
        used += tokens
    ranges.append((start, len(counts), used))
    return ranges


def test_packing_by_bisection_equals_the_step_by_step_loop():
    rng = random.Random(7)
    for _ in range(20000):
        budget = rng.randint(1, 40)
        overlap = rng.randint(0, budget // 2)
        top = rng.choice([3, budget, 2 * budget])  # units over the budget too (never split)
        counts = [rng.randint(0, top) for _ in range(rng.randint(1, 30))]
        assert chunking._pack(counts, budget, overlap) == _pack_step_by_step(
            counts, budget, overlap
        ), (counts, budget, overlap)
