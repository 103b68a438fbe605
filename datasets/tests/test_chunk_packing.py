"""Small consecutive sections share a chunk (datasets/chunk_packing.py), within the budgets."""

from __future__ import annotations

from datasets.chunking import MODEL_MAX_PIECES, chunk_blocks
from datasets.extraction import Block
from datasets.tokens import count_tokens


def _chunks(blocks, chunk_size=200, overlap=30):
    return list(chunk_blocks(blocks, title="Guide", chunk_size=chunk_size, overlap=overlap))


def test_small_sections_share_a_chunk_each_with_its_heading_line():
    blocks = [
        Block("Install it with pip.", headings=("Setup",)),
        Block("Set DEBUG to false in production.", headings=("Setup", "Settings")),
        Block("Run the tests with make test.", headings=("Testing",)),
    ]
    [chunk] = _chunks(blocks)
    assert chunk.text == (
        "Guide > Setup\n\nInstall it with pip.\n\n"
        "Guide > Setup > Settings\n\nSet DEBUG to false in production.\n\n"
        "Guide > Testing\n\nRun the tests with make test."
    )
    assert chunk.index == 0
    assert chunk.metadata == {"headings": ["Setup"]}  # where the chunk starts
    assert chunk.token_count == count_tokens(chunk.text)


def test_sections_join_only_while_the_body_budget_holds():
    word = "alpha "  # one piece each
    blocks = [
        Block(word * 40, headings=("A",)),
        Block(word * 40, headings=("B",)),
        Block(word * 40, headings=("C",)),
    ]
    chunks = _chunks(blocks, chunk_size=100)
    # A (40 + prefix) takes B, not C as well: the body after A's prefix would pass 100 pieces.
    assert [c.text.count("Guide > ") for c in chunks] == [2, 1]
    assert [c.index for c in chunks] == [0, 1]
    for c in chunks:
        assert c.token_count == count_tokens(c.text)
        assert c.token_count - count_tokens("Guide > A") <= 100
    # The same sections with the default budget: one chunk, within the model's window.
    [whole] = _chunks(blocks)
    assert whole.token_count == count_tokens(whole.text) <= MODEL_MAX_PIECES


def test_chunks_of_one_section_are_never_joined():
    blocks = [Block(f"Sentence {i} is here and it says something. " * 8, headings=("Long",))
              for i in range(6)]  # fmt: skip
    blocks.append(Block("A short closing note.", headings=("End",)))
    chunks = _chunks(blocks, chunk_size=120, overlap=20)
    assert len(chunks) > 2
    assert all(c.text.count("Guide > Long") == 1 for c in chunks)
    # The last chunk of the long section may take the small section after it.
    assert chunks[-1].text.endswith("Guide > End\n\nA short closing note.")
    assert chunks[-1].metadata["headings"] == ["Long"]
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_a_joined_chunk_spans_the_pages_of_its_sections():
    blocks = [
        Block("First page text.", headings=("One",), page=3),
        Block("Second page text.", headings=("Two",), page=4),
        Block("Fifth page text.", headings=("Three",), page=5),
    ]
    [chunk] = _chunks(blocks)
    assert chunk.metadata == {"headings": ["One"], "page": 3, "page_end": 5}


def test_a_document_of_one_section_is_unchanged():
    blocks = [Block("Just one paragraph of text.", headings=())]
    [chunk] = _chunks(blocks)
    assert chunk.text == "Guide\n\nJust one paragraph of text."
    assert chunk.metadata == {}
