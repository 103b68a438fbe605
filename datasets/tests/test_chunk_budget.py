"""Every chunk fits the embedder's window as ``count_pieces`` counts it, and its ``token_count``
is that count of its text: also when units (paragraphs, joined sections) are joined, because a
text's count is the sum of its words' (a long ``[UNK]`` counted by its length wherever it is)."""

from __future__ import annotations

from datasets.chunking import MODEL_MAX_PIECES, chunk_blocks, count_pieces
from datasets.extraction import Block

# 60 one-piece words and a 101-letter word (one [UNK] of 101 characters: 13 pieces as counted),
# under 8 characters per piece as a whole; and a 960-letter word alone (120 pieces as counted).
MIXED = "alpha " * 60 + "q" * 101
RUN = "z" * 960


def _check(drafts):
    counts = count_pieces([d.text for d in drafts])
    assert [d.token_count for d in drafts] == counts
    assert max(counts) <= MODEL_MAX_PIECES
    assert [d.index for d in drafts] == list(range(len(drafts)))


def test_a_texts_count_is_the_sum_of_its_parts():
    [mixed, run, both] = count_pieces([MIXED, RUN, f"{MIXED}\n\n{RUN}"])
    assert (mixed, run) == (60 + 13, 120)
    assert both == mixed + run


def test_paragraphs_of_one_section_stay_within_the_window():
    blocks = [Block(t, headings=("H",)) for t in (MIXED, MIXED, RUN, MIXED, RUN)]
    _check(list(chunk_blocks(blocks, title="Guide", chunk_size=512, overlap=30)))


def test_joined_sections_count_what_they_hold():
    blocks = [Block(MIXED, headings=("A",)), Block(RUN, headings=("B",))]
    drafts = list(chunk_blocks(blocks, title="Guide", chunk_size=512, overlap=30))
    assert len(drafts) == 1  # the two sections share a chunk
    _check(drafts)


def test_a_heading_of_300_cjk_characters_still_leaves_the_chunk_within_the_window():
    # prefix[-300:] of a long heading is 300 pieces when each character is one.
    blocks = [Block("Some body text here.", headings=("漢" * 1000,))]
    drafts = list(chunk_blocks(blocks, title="T", chunk_size=200, overlap=30))
    _check(drafts)
    assert "Some body text here." in drafts[0].text


def test_long_unknown_words_are_counted_by_their_length_wherever_they_are():
    # The tokenizer's normalisation makes 40 Hangul syllables 120 letters (one [UNK]); a
    # character it lacks ("\U0001f9ea" here) makes a word one [UNK]; typographic quotes read.
    for word in ("한" * 40, "ab\U0001f9eacdefghij", "alpha’s"):
        alone = count_pieces([word])[0]
        assert count_pieces([f"{'alpha ' * 60}{word}"]) == [60 + alone], word
    assert count_pieces(["한" * 40]) == [5]
