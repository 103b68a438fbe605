"""Which texts may hold a long ``[UNK]`` (``datasets.chunking`` counts one by its length).

The test is on the text's words, so a text's count stays the sum of its words' and a chunk's
(units joined on whitespace) the sum of its units'. It was "8 characters per piece or more":
60 words and a 101-letter word, under that, counted 61, but joined with a long run, over it,
73 more, so chunks passed 254 pieces. WordPiece reads a word as one ``[UNK]`` when it is over
100 characters or holds a character it cannot read (its vocabulary lacks the character, or
its ``##`` form), both counted after normalisation. Every ASCII character reads; so do most
others (accents, typographic quotes), checked once each with the tokenizer.
"""

from __future__ import annotations

import re

# The tokenizer's words lie within these runs (it also splits at punctuation and other spaces).
_LONG_RUN = re.compile(r"[^ \t\n\r]{101}")
_RUN = re.compile(r"[^ \t\n\r]{9,}")  # longer than CHARS_PER_PIECE (8)
# The tokenizer decomposes characters (NFD) before the 100-character test: a Hangul syllable is
# 2-3 letters, and no character is over 4, so a run of over 25 with one outside ASCII may be long.
_EXPANDS = 25
_LONG = re.compile(r"[^ \t\n\r]{26,}")  # over _EXPANDS
_ASCII = frozenset(map(chr, range(128)))
_readable: set[str] = set(_ASCII)
_unreadable: set[str] = set()


def may_hold_long_unk(text: str) -> bool:
    """Whether ``text`` may hold an ``[UNK]`` of over 8 characters (never a false "no")."""
    if _LONG_RUN.search(text):
        return True
    if text.isascii():
        return False
    odd = set(text) - _readable
    if odd - _unreadable:
        _learn(odd - _unreadable)
        odd -= _readable
    if odd:
        for m in _RUN.finditer(text):
            run = m.group()
            if not odd.isdisjoint(run) or (len(run) > _EXPANDS and not run.isascii()):
                return True
        return False
    return any(not m.group().isascii() for m in _LONG.finditer(text))


def _learn(chars: set[str]) -> None:
    """Sorts ``chars`` into readable or not: a word of them, alone or after a letter, is read
    without ``[UNK]`` (WordPiece then always finds a piece: the character or its ``##`` form)."""
    from datasets.embedders.minilm import load_tokenizer

    tok = load_tokenizer()
    unk = tok.token_to_id("[UNK]")
    if len(_readable) + len(_unreadable) > 200_000:  # bounded (there are ~150,000 letters)
        _readable.clear()
        _readable.update(_ASCII)
        _unreadable.clear()
    chars = sorted(chars)
    encodings = tok.encode_batch([f"{c}a{c}{c}" for c in chars], add_special_tokens=False)
    for c, enc in zip(chars, encodings, strict=True):
        (_unreadable if unk in enc.ids else _readable).add(c)
