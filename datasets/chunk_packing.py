"""Small consecutive sections of a document share a chunk (``Chunker``'s last step).

The chunker cuts at every heading, so a document of many short sections (API references, FAQs,
the DRF guides: median chunk ~570 characters) becomes many small chunks, each with little
context. Those rank worse: on ``../shared/corpus/drf-qa-dev.jsonl`` through ``/v1/retrieve``,
packing them raised hybrid MRR@10 (bench/README, "Packing small sections"). So a chunk that ends
a section takes the next section(s) of the same document while their pieces fit in its budget:
its body (everything after its own heading prefix) within ``chunk_size`` and the whole within
the embedder's window (``max_pieces``).

A section joined this way keeps its own ``title > heading`` line before its text, so readers
(the model, the keyword index, the extractive answerer) still see which section each part is
from; the chunk's ``metadata.headings`` (and ``page``) are those of its first section,
``page_end`` its last page. Consecutive chunks of one section (which overlap) are never joined.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class ChunkDraft:
    index: int
    text: str
    token_count: int
    metadata: dict = field(default_factory=dict)


class SectionPacker:
    """Holds the last chunk back until the next one shows whether it can join it."""

    def __init__(self, *, chunk_size: int, max_pieces: int) -> None:
        self.chunk_size = chunk_size
        self.max_pieces = max_pieces
        self.index = 0
        self._held: ChunkDraft | None = None
        self._held_section: object = None
        self._held_limit = 0

    def add(
        self,
        section: object,
        text: str,
        token_count: int,
        prefix_tokens: int,
        metadata: dict,
    ) -> Iterator[ChunkDraft]:
        """One chunk of ``section`` (its headings tuple); yields the chunks now complete."""
        held = self._held
        if (
            held is not None
            and section != self._held_section
            and held.token_count + token_count <= self._held_limit
        ):
            held.text = f"{held.text}\n\n{text}"
            held.token_count += token_count
            _join_pages(held.metadata, metadata)
            self._held_section = section
            return
        if held is not None:
            yield held
        self._held = ChunkDraft(self.index, text, token_count, metadata)
        self.index += 1
        self._held_section = section
        self._held_limit = min(self.max_pieces, self.chunk_size + prefix_tokens)

    def flush(self) -> Iterator[ChunkDraft]:
        if self._held is not None:
            yield self._held
            self._held = None


def _join_pages(into: dict, other: dict) -> None:
    """``into``'s page span widened by ``other``'s (``page`` stays the first page seen)."""
    keys = ("page", "page_end")
    numbers = [d[k] for d in (into, other) for k in keys if d.get(k) is not None]
    if not numbers:
        return
    first = into.get("page", other.get("page"))
    into["page"] = first
    last = max(numbers)
    if last != first:
        into["page_end"] = last
