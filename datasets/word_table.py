"""Vectorised word-piece counting for large batches: numpy, no Python object per word.

``datasets.tokens`` counts a text's pieces as the sum of its ``str.split()`` words' counts,
looked up in a dict: ~1,000 instructions per word (the word ``str``, its hash, the lookup).
Here a batch's texts are encoded to UTF-8 and joined with ``\\x1f`` (whitespace to
``str.split``, so words never cross texts); numpy finds the words' byte ranges (split at the
bytes <= 32), packs each word's first 24 bytes into three uint64, zero padded, and looks them
up in an open-addressing table (linear probing, at most 1/4 full) of words whose counts are
known. A packed word is the word itself, not a hash of it, and a table row is only taken when
all three uint64 are equal, so a count never comes from another word. Per-text sums come from
one cumulative sum.

Exact by construction:
- The table only holds words that ``str.split()`` produced (``datasets.tokens._learn``), so
  they contain no whitespace of any kind. A byte-level "word" with Unicode whitespace inside
  (U+00A0, U+2009, ...) never equals one of them: it is a miss.
- Misses (and words over 24 bytes) are not guessed: the texts holding one are counted by the
  dict path, then the missed words are added to the table.
- Byte-level splitting is wrong only where a byte <= 32 is not whitespace to ``str.split``:
  control characters 0-8 and 14-27 (NUL would also make the zero padding ambiguous). A batch
  holding one returns None from ``split()`` and is counted by the dict path, as is a batch with
  lone surrogates (no UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_WORD = 24  # bytes packed per word (three uint64)
MAX_ENTRIES = 1 << 17  # the table is emptied and refilled beyond this (~14 MB at 2^19 slots)
_MIN_BITS = 12
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_K3 = np.uint64(0x165667B19E3779F9)
_1, _3, _63, _64 = np.uint64(1), np.uint64(3), np.uint64(63), np.uint64(64)
_5, _9 = np.uint8(5), np.uint8(9)


def mix(w0: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """A 64-bit hash of packed words (multiplicative: the top bits depend on every byte)."""
    return (w0 ^ (w1 * _K2) ^ (w2 * _K3)) * _K1


@dataclass(frozen=True, slots=True)
class Table:
    """Known words and their piece counts: ``rows[slot]`` = (w0, w1, w2, pieces), an empty slot
    has ``w0 == 0``. Never changed once built (readers in other threads may hold it):
    ``added()`` returns a new one. One row gather per word is ~40% cheaper than four columns."""

    bits: int
    rows: np.ndarray
    size: int

    @classmethod
    def empty(cls, bits: int = _MIN_BITS) -> Table:
        return cls(bits, np.zeros((1 << bits, 4), np.uint64), 0)

    def home(self, w0: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
        return (mix(w0, w1, w2) >> np.uint64(64 - self.bits)).astype(np.intp)

    def find(self, w0: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pieces, found) per packed word; probing goes on only for the words not yet found."""
        rows, mask = self.rows, (1 << self.bits) - 1
        slot = self.home(w0, w1, w2)
        got = rows.take(slot, axis=0)
        found = (got[:, 0] == w0) & (got[:, 1] == w1) & (got[:, 2] == w2)
        todo = np.flatnonzero(~found)
        todo = todo[got[todo, 0] != 0]  # an empty slot ends the probe: not in the table
        while len(todo):
            slot[todo] = s = (slot[todo] + 1) & mask
            row = rows.take(s, axis=0)
            hit = (row[:, 0] == w0[todo]) & (row[:, 1] == w1[todo]) & (row[:, 2] == w2[todo])
            got[todo[hit]] = row[hit]
            found[todo[hit]] = True
            todo = todo[~hit & (row[:, 0] != 0)]
        return got[:, 3], found

    def added(self, w0: np.ndarray, w1: np.ndarray, w2: np.ndarray, pieces: np.ndarray) -> Table:
        """A copy with these (distinct, absent) words added, grown (or emptied) as needed."""
        new = np.stack((w0, w1, w2, pieces.astype(np.uint64)), axis=1)[:MAX_ENTRIES]
        old = self.rows[self.rows[:, 0] != 0] if self.size + len(new) <= MAX_ENTRIES else new[:0]
        size = len(old) + len(new)
        bits = self.bits if len(old) else _MIN_BITS
        while size * 4 > 1 << bits:
            bits += 1
        if bits == self.bits and len(old):
            out = Table(bits, self.rows.copy(), size)
        else:  # rehash into an empty table (grown, or emptied when full)
            out = Table(bits, np.zeros((1 << bits, 4), np.uint64), size)
            new = np.concatenate((old, new))
        out._place(new)
        return out

    def _place(self, new: np.ndarray) -> None:
        """Linear probing in rounds: each row takes its slot if empty (one row per slot per
        round), otherwise moves one slot on."""
        mask = (1 << self.bits) - 1
        slot = self.home(new[:, 0], new[:, 1], new[:, 2])
        todo = np.arange(len(new))
        while len(todo):
            free = np.flatnonzero(self.rows[slot[todo], 0] == 0)
            taken, first = np.unique(slot[todo[free]], return_index=True)
            self.rows[taken] = new[todo[free[first]]]
            rest = np.ones(len(todo), bool)
            rest[free[first]] = False
            todo = todo[rest]
            slot[todo] = (slot[todo] + 1) & mask


@dataclass(slots=True)
class Words:
    """The words of a joined batch: packed bytes, byte ranges, and each text's first word."""

    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    w0: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    firsts: np.ndarray  # len(texts) + 1 word indices

    def text(self, i: int) -> str:
        return self.data[self.starts[i] : self.ends[i]].decode()


def _bytes_at(lo, hi, bit, up, left):
    """The ``min(left, 8)`` bytes starting ``bit`` bits into ``lo`` (then ``hi``), zero padded."""
    word = (lo >> bit) | ((hi << _1) << up)  # ``up`` = 63 - bit: no shift by 64 needed
    drop = _64 - (np.minimum(left, 8) << 3).astype(np.uint64)
    return (word << drop) >> drop


def split(texts: list[str]) -> Words | None:
    """The words of ``texts`` as ``str.split()`` finds them, or None if that is not certain.

    Meant for ~64 KB at a time: numpy's temporary arrays then stay below glibc's mmap
    threshold and are reused from the heap (larger ones are fresh pages: at 860 KB a call
    took ~3,000 page faults, more time than the counting itself)."""
    try:
        parts = list(map(str.encode, texts))  # ASCII texts are copied as they are
    except UnicodeEncodeError:  # lone surrogates
        return None
    sizes = np.fromiter(map(len, parts), np.intp, len(parts))
    parts.append(bytes(32))  # room for the 8-byte reads past a word's start
    data = b"\x1f".join(parts)
    n = len(data) - 33
    raw = np.frombuffer(data, np.uint8)
    a = raw[:n]
    if np.count_nonzero(a < 28) != np.count_nonzero((a - _9) < _5):  # bytes 0-27 but 9-13
        return None  # control characters that str.split() does not split at (NUL too)
    word = np.empty(n + 2, np.bool_)
    word[0] = word[-1] = False
    np.greater(a, 32, out=word[1:-1])  # what is left at or below 32 is whitespace
    edges = np.flatnonzero(word[1:] != word[:-1])  # word starts and ends, alternating
    starts, ends = edges[0::2], edges[1::2]
    lens = ends - starts
    # Each word's bytes, 8 at a time: two aligned uint64 around them, shifted together.
    units = np.frombuffer(data, "<u8", count=len(data) // 8)
    q = starts >> 3
    bit = (starts & 7).astype(np.uint64) << _3
    up = _63 - bit
    w0 = _bytes_at(units.take(q), units.take(q + 1), bit, up, lens)
    w1 = np.zeros(len(starts), np.uint64)
    w2 = np.zeros(len(starts), np.uint64)
    long = np.flatnonzero(lens > 8)  # a minority: the rest have nothing beyond w0
    if len(long):
        ql, bl, ul = q[long] + 1, bit[long], up[long]
        w1[long] = _bytes_at(units.take(ql), units.take(ql + 1), bl, ul, lens[long] - 8)
        longer = np.flatnonzero(lens[long] > 16)
        if len(longer):
            i = long[longer]
            ql, bl, ul = q[i] + 2, bit[i], up[i]
            w2[i] = _bytes_at(units.take(ql), units.take(ql + 1), bl, ul, lens[i] - 16)
    firsts = np.empty(len(texts) + 1, np.intp)
    firsts[0], firsts[-1] = 0, len(starts)
    firsts[1:-1] = np.searchsorted(starts, np.cumsum(sizes[:-1] + 1) - 1)  # the separators
    return Words(data, starts, ends, w0, w1, w2, firsts)


def counts(words: Words, table: Table) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(pieces per text, indices of the texts with a missed word, the missed word indices)."""
    pieces, found = table.find(words.w0, words.w1, words.w2)
    found &= (words.ends - words.starts) <= MAX_WORD
    sums = np.zeros(len(pieces) + 1, np.uint64)
    np.cumsum(pieces, out=sums[1:])
    totals = sums[words.firsts[1:]] - sums[words.firsts[:-1]]
    missed = np.flatnonzero(~found)
    if not len(missed):
        return totals.tolist(), missed, missed
    texts = np.unique(np.searchsorted(words.firsts, missed, side="right") - 1)
    return totals.tolist(), texts, missed
