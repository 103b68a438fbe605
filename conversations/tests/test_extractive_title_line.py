"""The extractive answerer never quotes a chunk's heading lines: neither a "title > heading" line
nor the bare document title that opens a chunk of text before any heading (a PDF or text file
without headings: every chunk), which it read as a sentence and quoted first, since a title
holds the question's words."""

from __future__ import annotations

from types import SimpleNamespace

from conversations.extractive import _sentences, extractive_answer

TITLE = "Parental leave policy for all employees"
TEXT = f"{TITLE}\n\nParents get sixteen weeks of paid leave after the birth."


def _src(text: str, title: str) -> SimpleNamespace:
    return SimpleNamespace(text=text, document_title=title)


def test_the_bare_title_line_is_context_not_a_sentence():
    assert _sentences(TEXT, TITLE) == ["Parents get sixteen weeks of paid leave after the birth."]
    answer = extractive_answer("What is the parental leave policy?", [_src(TEXT, TITLE)])
    assert TITLE not in answer
    assert "Parents get sixteen weeks of paid leave after the birth. [1]" in answer


def test_a_first_line_that_is_not_the_title_is_still_quoted():
    text = "Parents get sixteen weeks of paid leave.\n\nFathers too."
    assert _sentences(text, "Handbook") == ["Parents get sixteen weeks of paid leave."]


def test_without_prose_the_quoted_text_leaves_the_heading_lines_out():
    text = "Guide\n\n```\npip install x\n```\n\nGuide > Setup\n\n```\nmake run\n```"
    answer = extractive_answer("How do I install and run it?", [_src(text, "Guide")])
    assert "Guide" not in answer.split(": ", 1)[1], answer
    assert "pip install x" in answer
    assert "make run" in answer


def test_the_end_of_a_title_too_long_for_a_prefix_is_context_too():
    from datasets.chunking import chunk_blocks
    from datasets.extraction import Block

    title = "https://example.com/" + "/".join(f"section-{i}/page-{i}" for i in range(40))
    [chunk] = chunk_blocks([Block("Parents get sixteen weeks of paid leave.")], title=title)
    first = chunk.text.split("\n", 1)[0]
    assert first != title
    assert title.endswith(first)
    assert _sentences(chunk.text, title) == ["Parents get sixteen weeks of paid leave."]
