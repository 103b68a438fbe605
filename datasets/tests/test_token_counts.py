"""The vectorised word-piece count (``datasets.word_table``) equals the per-word dict count.

``count_tokens_batch`` takes the numpy path for large batches; ``_count_vectorised`` is called
directly here so that small inputs take it too, both cold (every word missed, then learned) and
warm (every word from the table).
"""

from __future__ import annotations

import random

import pytest

from datasets import tokens, word_table
from datasets.extraction import ExtractionError, Section, extract
from datasets.filetypes import sniff


@pytest.fixture(autouse=True)
def _fresh_table(monkeypatch):
    monkeypatch.setattr(tokens, "_table", word_table.Table.empty())


def _both(texts: list[str]) -> None:
    expected = tokens._count_words(texts)
    assert tokens._count_vectorised(texts) == expected  # cold: counted exactly, then learned
    assert tokens._count_vectorised(texts) == expected  # warm: from the table
    assert tokens.count_tokens_batch(texts) == expected


def _paragraphs(path, kind) -> list[str]:
    texts: list[str] = []
    try:
        for item in extract(path, kind, title=path.stem):
            texts += item.texts if isinstance(item, Section) else [item.text]
    except ExtractionError:
        pass
    return texts


def test_every_corpus_files_paragraphs_count_the_same(corpus):
    checked = 0
    for sub in ("pdf", "office", "drf-docs"):
        for path in sorted((corpus / sub).rglob("*")):
            if not path.is_file():
                continue
            try:
                kind = sniff(path, path.name)
            except Exception:  # not a type we ingest
                continue
            texts = _paragraphs(path, kind)
            if texts:
                _both(texts)
                checked += 1
    assert checked > 30


TRICKY = [
    "",
    " ",
    "   \t\n  ",
    "\n\n\n",
    "a",
    "word",
    "\tindented\tby tabs\nand\r\nnew lines\x0b\x0cform feeds",
    "separators\x1ca\x1db\x1ec\x1fd",
    "no\xa0break\xa0space and\u2009thin\u2009and\u3000ideographic\u205fmath\u202fnarrow",
    "ogham\u1680space line\u2028sep para\u2029sep next\x85line",
    "en\u2000quad\u200ahair",
    "zero\u200bwidth is not whitespace",
    "control\x01inside\x02words\x1bescape",
    "nul\x00byte",
    "delete\x7fchar",
    "12345678 123456789 1234567890123456 12345678901234567 123456789012345678901234",
    "1234567890123456789012345 " + "x" * 100 + " " + "y" * 5000,
    "abcdefgh abcdefghi abcdefgh abcdefghijklmnop abcdefghijklmnopq abcdefgh",
    "caf\xe9 na\xefve \u2019quoted\u2019 \u201cdouble\u201d en\u2013dash em\u2014dash \xa7 12",
    "\u00e9" * 4 + "x \u00e9" * 3 + " " + "a\u00e9" * 8 + " " + "\u20ac" * 9,
    "\u4e2d\u6587\u5b57 \u65e5\u672c\u8a9e\u306e\u6587\u7ae0 \ud55c\uad6d\uc5b4",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u05e2\u05d1\u05e8\u05d9\u05ea",
    "emoji \U0001f600\U0001f680 mixed\U0001f44dwords",
    "e\u0301 combining \u0301accents",
    "\ufb01ligature \u2460 circled \uff21 fullwidth",
]


def test_tricky_inputs_count_the_same():
    plain = [t for t in TRICKY if not any(c in t for c in "\x00\x01\x02\x1b")]
    assert word_table.split(plain) is not None  # the numpy path, not the fallback
    assert word_table.split(["control\x01inside"]) is None
    assert word_table.split(["nul\x00byte"]) is None
    _both(plain)
    _both(TRICKY)
    for text in TRICKY:
        _both([text])
        _both([text, text, ""])


def test_texts_that_utf8_cannot_encode_take_the_dict_path():
    assert word_table.split(["bad \ud800 surrogate", "fine text"]) is None


def test_a_word_with_unicode_whitespace_inside_is_never_taken_for_another():
    _both(["foo bar", "foo\xa0bar foo\u3000bar"])
    _both(["foo\xa0bar"])  # "foo\xa0bar" is one byte-level word, never in the table


def test_many_new_words_grow_the_table_and_a_full_table_starts_over(monkeypatch):
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz\xe9\u2019"

    def text() -> str:
        return " ".join(
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
            for _ in range(rng.randint(0, 40))
        )

    batch = [text() for _ in range(600)]
    _both(batch)
    assert tokens._table.size > 5_000
    assert tokens._table.bits > 12
    monkeypatch.setattr(word_table, "MAX_ENTRIES", 3_000)
    _both([text() for _ in range(300)])
    assert tokens._table.size <= 3_000
    _both(batch)


def test_large_batches_take_the_vectorised_path(monkeypatch):
    texts = [f"paragraph {i} with some words, repeated enough" for i in range(400)]
    calls = []
    real = tokens._count_vectorised
    monkeypatch.setattr(tokens, "_count_vectorised", lambda t: calls.append(len(t)) or real(t))
    assert tokens.count_tokens_batch(texts) == tokens._count_words(texts)
    assert sum(calls) == len(texts)
    calls.clear()
    assert tokens.count_tokens_batch(texts[:3]) == tokens._count_words(texts[:3])
    assert not calls  # small batches: the dict path


def test_a_text_over_the_block_size_is_counted_alone():
    huge = " ".join(f"w{i % 5000}" for i in range(40_000))  # ~240,000 characters
    texts = ["before it", huge, "after it " * 2000]
    assert len(huge) > tokens._BLOCK_CHARS
    assert tokens.count_tokens_batch(texts) == tokens._count_words(texts)
