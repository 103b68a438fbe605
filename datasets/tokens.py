"""Token counting in the local embedder's word pieces (offline; tiktoken would download files).

Chunks are sized in these pieces because the embedder reads at most 256 of them; the chat code
uses the same count for history budgets (a fair estimate for any modern tokenizer).

BERT's tokenizer splits on whitespace before anything else and normalises character by
character, so a text's piece count is the sum of its whitespace-separated words' counts. Words
repeat a lot, so counts are cached per word (per process, bounded): that makes counting several
times faster than encoding every text, with the same result.
"""

from __future__ import annotations

import threading

from datasets.embedders.minilm import load_tokenizer

_CACHE_LIMIT = 500_000
_cache: dict[str, int] = {}
_lock = threading.Lock()


def _encode_counts(words: list[str]) -> list[int]:
    tok = load_tokenizer()
    encode = getattr(tok, "encode_batch_fast", tok.encode_batch)
    return [len(e.ids) for e in encode(words, add_special_tokens=False)]


def count_tokens_batch(texts: list[str]) -> list[int]:
    """Word pieces of each text, without the [CLS]/[SEP] the model adds."""
    if not texts:
        return []
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
