"""Token counting in the local embedder's word pieces (offline; tiktoken would download files).

Chunks are sized in these pieces because the embedder reads at most 256 of them; the chat code
uses the same count for history budgets (a fair estimate for any modern tokenizer).

BERT's tokenizer splits on whitespace before anything else and normalises character by
character, so a text's piece count is the sum of its whitespace-separated words' counts. Words
repeat a lot, so counts are cached per word (per process, bounded): that makes counting several
times faster than encoding every text, with the same result. Large batches (a document's
sections, ``_VECTOR_CHARS`` characters and more) are counted with numpy from a table of the
known words instead, with no Python object per word (``datasets.word_table``: same counts,
~40% fewer instructions on a 872-page DOCX); texts with a word the table lacks are counted
here, which teaches the table their words.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from itertools import accumulate

import numpy as np

from datasets import word_table
from datasets.embedders.minilm import load_tokenizer

_CACHE_LIMIT = 500_000
_VECTOR_CHARS = 4096  # below this, numpy's per-call overhead outweighs its per-word gain
_BLOCK_CHARS = 65_536  # texts counted per numpy pass (see word_table.split)
_cache: dict[str, int] = {}
_table = word_table.Table.empty()
_lock = threading.Lock()


def _encode_counts(words: list[str]) -> list[int]:
    """Pieces per word, encoded 1,000 at a time (each encoding is a Python object holding
    several vectors: a whole block's new words at once added ~1.6 MB to peak RSS)."""
    tok = load_tokenizer()
    encode = getattr(tok, "encode_batch_fast", tok.encode_batch)
    out: list[int] = []
    for i in range(0, len(words), 1000):
        out += [len(e.ids) for e in encode(words[i : i + 1000], add_special_tokens=False)]
    return out


def count_tokens_batch(texts: list[str]) -> list[int]:
    """Word pieces of each text, without the [CLS]/[SEP] the model adds."""
    if not texts:
        return []
    ends = list(accumulate(map(len, texts)))
    if ends[-1] < _VECTOR_CHARS:
        return _count_words(texts)
    out: list[int] = []
    start = 0
    while start < len(texts):  # blocks of whole texts, ~_BLOCK_CHARS each
        end = bisect_right(ends, (ends[start - 1] if start else 0) + _BLOCK_CHARS, start)
        if end > start:
            out += _count_vectorised(texts[start:end])
        else:  # one text over the block size: numpy would hold ~20 bytes per byte of it
            out += _count_words(texts[start : start + 1])
            end = start + 1
        start = end
    return out


def _count_vectorised(texts: list[str]) -> list[int]:
    words = word_table.split(texts)
    if words is None:
        return _count_words(texts)
    totals, redo, missed = word_table.counts(words, _table)
    if len(redo):
        redo = redo.tolist()
        for i, n in zip(redo, _count_words([texts[i] for i in redo]), strict=True):
            totals[i] = n
        _learn(words, missed)
    return totals


def _learn(words: word_table.Words, missed: np.ndarray) -> None:
    """Adds the missed words (just counted, so cached) to the table, once each."""
    global _table
    missed = missed[(words.ends[missed] - words.starts[missed]) <= word_table.MAX_WORD]
    w0, w1, w2 = words.w0[missed], words.w1[missed], words.w2[missed]
    # Once per distinct hash: a word whose hash another new word has stays out (and correct).
    _, first = np.unique(word_table.mix(w0, w1, w2), return_index=True)
    keep, pieces = [], []
    for j in first.tolist():
        n = _cache.get(words.text(int(missed[j])))
        if n is not None:  # None: the cache was emptied meanwhile
            keep.append(j)
            pieces.append(n)
    if not keep:
        return
    w0, w1, w2 = w0[keep], w1[keep], w2[keep]
    with _lock:
        new = ~_table.find(w0, w1, w2)[1]  # another thread may have added some meanwhile
        if new.any():
            pieces = np.asarray(pieces, np.int32)[new]
            _table = _table.added(w0[new], w1[new], w2[new], pieces)


def _count_words(texts: list[str]) -> list[int]:
    """Counts through the per-word dict, encoding (and caching) the words it lacks."""
    get = _cache.__getitem__
    try:  # usual case once a worker has read a few documents: every word is cached
        return [sum(map(get, t.split())) for t in texts]
    except KeyError:
        pass
    splits = [t.split() for t in texts]
    cache = _cache
    missing = set().union(*splits).difference(cache)  # set operations run in C
    if missing:
        words = list(missing)
        counts = _encode_counts(words)
        with _lock:
            if len(cache) + len(words) > _CACHE_LIMIT:
                cache.clear()
            cache.update(zip(words, counts, strict=True))
            get = cache.__getitem__
            return [sum(map(get, ws)) for ws in splits]
    get = cache.__getitem__
    return [sum(map(get, ws)) for ws in splits]


def count_tokens(text: str) -> int:
    """Word pieces in ``text``, without the [CLS]/[SEP] the model adds."""
    if not text:
        return 0
    return count_tokens_batch([text])[0]
