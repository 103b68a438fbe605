"""Token-aware chunking that respects headings, paragraphs and code blocks. Deterministic.

Sizes are measured in the local embedder's word pieces (``datasets.tokens``), because MiniLM
reads at most 256 of them: every chunk's text is ``title > heading > subheading`` plus the body,
and the body budget is ``min(chunk_size, 254 - prefix pieces)`` so the whole chunk fits.

Rules, in order: a chunk never spans two sections (heading paths); paragraphs are packed whole
while they fit; a paragraph too big for one chunk is split at sentence ends (code: at line ends,
so a fence is only cut between lines), then at words as the last resort. Consecutive chunks of a
section overlap by up to ``overlap`` pieces of whole sentences/lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from datasets.extraction import Block
from datasets.tokens import count_tokens, count_tokens_batch

MODEL_MAX_PIECES = 254  # 256 minus [CLS] and [SEP]
MIN_BODY = 32
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+(?=\S)")
_COUNT_BATCH = 256


@dataclass(slots=True)
class ChunkDraft:
    index: int
    text: str
    token_count: int
    metadata: dict = field(default_factory=dict)


@dataclass(slots=True)
class _Unit:
    text: str
    tokens: int
    page: int | None
    is_code: bool


def heading_prefix(title: str, headings: tuple[str, ...]) -> str:
    parts = [p for p in (title.strip(), *(h.strip() for h in headings)) if p]
    # Drop a first heading that merely repeats the title.
    if len(parts) > 1 and parts[0].lower() == parts[1].lower():
        parts.pop(1)
    return " > ".join(parts)


def _cut_by_pieces(text: str, budget: int) -> list[str]:
    """Cut ``text`` into spans of at most ``budget`` pieces, at word starts when possible."""
    from datasets.embedders.minilm import load_tokenizer

    enc = load_tokenizer().encode(text, add_special_tokens=False)
    offsets = enc.offsets
    words = enc.word_ids
    out: list[str] = []
    start_piece = 0
    n = len(offsets)
    while start_piece < n:
        end_piece = min(n, start_piece + budget)
        if end_piece < n:
            # Back up to the first piece of a word so no word is split across chunks.
            cut = end_piece
            while cut > start_piece + 1 and words[cut] is not None and words[cut] == words[cut - 1]:
                cut -= 1
            end_piece = cut if cut > start_piece + 1 else end_piece
        begin = offsets[start_piece][0]
        end = offsets[end_piece][0] if end_piece < n else len(text)
        piece = text[begin:end].strip()
        if piece:
            out.append(piece)
        start_piece = end_piece
    return out


def _split_oversized(text: str, is_code: bool, budget: int) -> list[str]:
    """Pieces of ``text`` each within ``budget`` pieces: lines/sentences, then words."""
    parts = [p for p in (text.split("\n") if is_code else _SENTENCE_END.split(text)) if p.strip()]
    out: list[str] = []
    for part, n in zip(parts, count_tokens_batch(parts), strict=True):
        if n > budget:
            out.extend(_cut_by_pieces(part, budget))
        else:
            out.append(part)
    return out


class Chunker:
    def __init__(
        self, *, title: str, chunk_size: int, overlap: int, max_pieces: int = MODEL_MAX_PIECES
    ):
        self.title = title
        self.chunk_size = chunk_size
        self.overlap = min(overlap, chunk_size // 2)
        self.max_pieces = max_pieces
        self.index = 0
        self._prefix_cache: dict[tuple[str, ...], tuple[str, int]] = {}

    def _prefix(self, headings: tuple[str, ...]) -> tuple[str, int]:
        cached = self._prefix_cache.get(headings)
        if cached is None:
            prefix = heading_prefix(self.title, headings)
            tokens = count_tokens(prefix) if prefix else 0
            if tokens > self.max_pieces // 3:  # absurdly long headings: keep the last ones
                prefix = prefix[-300:]
                tokens = count_tokens(prefix)
            cached = (prefix, tokens)
            if len(self._prefix_cache) > 10_000:
                self._prefix_cache.clear()
            self._prefix_cache[headings] = cached
        return cached

    def chunks(self, blocks: Iterable[Block]) -> Iterator[ChunkDraft]:
        section: list[Block] = []
        key: tuple[str, ...] | None = None
        pending_tokens = 0
        for block in blocks:
            if not block.text.strip():
                continue
            if key is not None and block.headings != key:
                yield from self._section(key, section)
                section = []
                pending_tokens = 0
            key = block.headings
            section.append(block)
            pending_tokens += len(block.text)
            # Bound memory on a section with no headings at all (a 1,000-page flat text).
            if pending_tokens > 200_000:
                yield from self._section(key, section)
                section = []
                pending_tokens = 0
        if section and key is not None:
            yield from self._section(key, section)

    def _section(self, headings: tuple[str, ...], blocks: list[Block]) -> Iterator[ChunkDraft]:
        prefix, prefix_tokens = self._prefix(headings)
        budget = max(MIN_BODY, min(self.chunk_size, self.max_pieces - prefix_tokens - 2))
        overlap = min(self.overlap, budget // 4)
        counts: list[int] = []
        texts = [b.text for b in blocks]
        for i in range(0, len(texts), _COUNT_BATCH):
            counts.extend(count_tokens_batch(texts[i : i + _COUNT_BATCH]))
        units: list[_Unit] = []
        for block, tokens in zip(blocks, counts, strict=True):
            if tokens <= budget:
                units.append(_Unit(block.text, tokens, block.page, block.is_code))
            else:
                pieces = _split_oversized(block.text, block.is_code, budget)
                for piece, n in zip(pieces, count_tokens_batch(pieces), strict=True):
                    units.append(_Unit(piece, n, block.page, block.is_code))
        current: list[_Unit] = []
        used = 0
        for unit in units:
            # Joining on whitespace adds no word pieces: a chunk's count is the sum of its units'.
            if current and used + unit.tokens > budget:
                yield self._emit(prefix, prefix_tokens, headings, current)
                # Carry whole trailing units as overlap, never the whole previous chunk.
                carried: list[_Unit] = []
                carried_tokens = 0
                for prev in reversed(current):
                    if carried_tokens + prev.tokens > overlap or len(carried) + 1 >= len(current):
                        break
                    carried.insert(0, prev)
                    carried_tokens += prev.tokens
                if carried_tokens + unit.tokens > budget:
                    carried, carried_tokens = [], 0
                current = carried
                used = carried_tokens
            current.append(unit)
            used += unit.tokens
        if current:
            yield self._emit(prefix, prefix_tokens, headings, current)

    def _emit(
        self, prefix: str, prefix_tokens: int, headings: tuple[str, ...], units: list[_Unit]
    ) -> ChunkDraft:
        parts: list[str] = []
        for i, unit in enumerate(units):
            if i and units[i - 1].is_code and unit.is_code:
                parts.append("\n" + unit.text)
            elif i:
                parts.append("\n\n" + unit.text)
            else:
                parts.append(unit.text)
        body = "".join(parts)
        text = f"{prefix}\n\n{body}" if prefix else body
        pages = [u.page for u in units if u.page is not None]
        metadata: dict = {}
        if headings:
            metadata["headings"] = list(headings)
        if pages:
            metadata["page"] = pages[0]
            if pages[-1] != pages[0]:
                metadata["page_end"] = pages[-1]
        tokens = prefix_tokens + sum(u.tokens for u in units)
        draft = ChunkDraft(index=self.index, text=text, token_count=tokens, metadata=metadata)
        self.index += 1
        return draft


def chunk_blocks(
    blocks: Iterable[Block], *, title: str, chunk_size: int = 200, overlap: int = 30
) -> Iterator[ChunkDraft]:
    """Chunks of ``blocks``; ``token_count`` is in embedder pieces, heading prefix included."""
    yield from Chunker(title=title, chunk_size=chunk_size, overlap=overlap).chunks(blocks)
