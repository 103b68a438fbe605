"""Token-aware chunking that respects headings, paragraphs and code blocks. Deterministic.

Sizes are measured in the local embedder's word pieces (``datasets.tokens``), because MiniLM
reads at most 256 of them: every chunk's text is ``title > heading > subheading`` plus the body,
and the body budget is ``min(chunk_size, 254 - prefix pieces)`` so the whole chunk fits.

Rules, in order: a section (heading path) is chunked on its own; paragraphs are packed whole
while they fit; a paragraph too big for one chunk is split at sentence ends (code: at line ends,
so a fence is only cut between lines), then at words as the last resort. Consecutive chunks of a
section overlap by up to ``overlap`` pieces of whole sentences/lines; then small consecutive
sections of the document share a chunk while they fit (``datasets/chunk_packing.py``).

An ``[UNK]`` counts one piece per ``CHARS_PER_PIECE`` characters of the text behind it, not one:
WordPiece gives up on a word over 100 characters (a long run of letters, base64, minified code,
Thai or kana without spaces) or with a character it lacks, and reads all of it as one ``[UNK]``,
so a 300,000-character word counted 1 and became one chunk. Counted so, such a run is cut inside
(at 8-character steps, never before a combining mark) like any other oversized text, and no chunk
holds more than about ``CHARS_PER_PIECE`` characters per piece of its budget (1,600 for 200).
8 because English averages 4-5 characters per piece and the corpus at most 7.4 per chunk (its
chunks are unchanged); a reader of the text (an LLM) pays 1-4 characters per token for such runs,
so the count stays an underestimate there, but a bounded one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate
from unicodedata import category

from datasets.chunk_packing import ChunkDraft, SectionPacker
from datasets.extraction import Block, Section
from datasets.tokens import count_tokens, count_tokens_batch
from datasets.unk_runs import may_hold_long_unk

MODEL_MAX_PIECES = 254  # 256 minus [CLS] and [SEP]
MIN_BODY = 32
CHARS_PER_PIECE = 8  # an [UNK] counts one piece per this many characters of its text
_SECTION_CHARS = 200_000
# A heading as kept in each chunk's metadata: the whole of an absurd one (a 1 MB line after
# "# ") in every chunk under it made a 0.7 MB upload 155 MB of chunk rows.
HEADING_METADATA_CHARS = 500
# A sentence end and the whitespace after it, where more text follows. Starting with the
# punctuation (not a look-behind) lets the regular expression engine skip to candidates.
_SENTENCE_END = re.compile(r"[.!?。]\s+(?=\S)")


def _count(text: str) -> int:
    """``count_pieces`` of one text."""
    return _with_unk([text], [count_tokens(text)])[0]


def heading_prefix(title: str, headings: tuple[str, ...]) -> str:
    parts = [p for p in (title.strip(), *(h.strip() for h in headings)) if p]
    # Drop a first heading that merely repeats the title.
    if len(parts) > 1 and parts[0].lower() == parts[1].lower():
        parts.pop(1)
    return " > ".join(parts)


def _cut_by_pieces(text: str, budget: int) -> list[str]:
    """Cut ``text`` into spans of at most ``budget`` pieces, at word starts when possible (a
    word longer than ``budget`` is cut inside, at its pieces or its ``[UNK]``'s steps)."""
    offsets, words = _piece_starts(text)
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
        begin = offsets[start_piece]
        end = offsets[end_piece] if end_piece < n else len(text)
        piece = text[begin:end].strip()
        if piece:
            out.append(piece)
        start_piece = end_piece
    return out


def _piece_starts(text: str) -> tuple[list[int], list[int | None]]:
    """Where each piece of ``text`` starts, and its word, as counted here: an ``[UNK]`` longer
    than ``CHARS_PER_PIECE`` characters stands for one piece per that many characters of it."""
    from datasets.embedders.minilm import load_tokenizer

    tok = load_tokenizer()
    enc = tok.encode(text, add_special_tokens=False)
    unk = tok.token_to_id("[UNK]")
    starts: list[int] = []
    words: list[int | None] = []
    for piece, (begin, end), word in zip(enc.ids, enc.offsets, enc.word_ids, strict=True):
        starts.append(begin)
        words.append(word)
        if piece != unk or end - begin <= CHARS_PER_PIECE:
            continue
        for at in range(begin + CHARS_PER_PIECE, end, CHARS_PER_PIECE):
            while at < end and category(text[at])[0] == "M":  # keep a mark with its letter
                at += 1
            if at < end and at > starts[-1]:
                starts.append(at)
                words.append(word)
    return starts, words


def _unk_extra(texts: list[str]) -> list[int]:
    """Pieces to add to each text's count for its ``[UNK]``s longer than ``CHARS_PER_PIECE``."""
    from datasets.embedders.minilm import load_tokenizer

    tok = load_tokenizer()
    unk = tok.token_to_id("[UNK]")
    out: list[int] = []
    for enc in tok.encode_batch(texts, add_special_tokens=False):
        extra = 0
        for piece, (begin, end) in zip(enc.ids, enc.offsets, strict=True):
            if piece == unk and end - begin > CHARS_PER_PIECE:
                extra += -(-(end - begin) // CHARS_PER_PIECE) - 1
        out.append(extra)
    return out


def count_pieces(texts: list[str]) -> list[int]:
    """Pieces of each text as the chunker counts them (see the module docstring on ``[UNK]``)."""
    return _with_unk(texts, count_tokens_batch(texts))


def _with_unk(texts: list[str], counts: list[int]) -> list[int]:
    """``counts`` (embedder pieces of ``texts``) with long ``[UNK]``s counted by their length.

    Only texts that may hold one are encoded again (``datasets.unk_runs``: a cheap test on the
    hot path, on the text's words, so a chunk's count is the sum of its units').
    """
    suspects = [i for i, text in enumerate(texts) if may_hold_long_unk(text)]
    if not suspects:
        return counts
    counts = counts[:]
    for i, extra in zip(suspects, _unk_extra([texts[i] for i in suspects]), strict=True):
        counts[i] += extra
    return counts


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end, the whitespace there dropped: what
    ``re.split(r"(?<=[.!?。])\\s+(?=\\S)", text)`` gives, ~1.7x faster."""
    out: list[str] = []
    prev = 0
    for match in _SENTENCE_END.finditer(text):
        out.append(text[prev : match.start() + 1])
        prev = match.end()
    out.append(text[prev:])
    return out


def _split_oversized(text: str, is_code: bool, budget: int) -> tuple[list[str], list[int]]:
    """Pieces of ``text`` each within ``budget`` pieces (lines/sentences, then words), and
    their piece counts."""
    parts = [p for p in (text.split("\n") if is_code else sentences(text)) if p.strip()]
    pieces: list[str] = []
    counts: list[int] = []
    for part, n in zip(parts, count_pieces(parts), strict=True):
        if n > budget:
            cut = _cut_by_pieces(part, budget)
            pieces += cut
            counts += count_pieces(cut)
        else:
            pieces.append(part)
            counts.append(n)
    return pieces, counts


class Chunker:
    """Packs a document's blocks into chunks, section by section.

    Hot path (a 872-page DOCX is ~4,500 blocks): a section is held as parallel lists (texts,
    piece counts, pages, code flags) and chunks are index ranges into them, so no per-paragraph
    objects are made beyond the blocks themselves. Sections wait until ~``_SECTION_CHARS`` of
    text is held, to be counted in one batch (the DOCX has 269 sections, mostly of a few
    paragraphs: too small for the vectorised count).
    """

    def __init__(
        self, *, title: str, chunk_size: int, overlap: int, max_pieces: int = MODEL_MAX_PIECES
    ):
        self.title = title
        self.chunk_size = chunk_size
        self.overlap = min(overlap, chunk_size // 2)
        self.max_pieces = max_pieces
        self._packer = SectionPacker(chunk_size=chunk_size, max_pieces=max_pieces)
        self._prefix_cache: dict[tuple[str, ...], tuple[str, int]] = {}
        self._pending: list[tuple[tuple[str, ...], list[str], list, list[bool]]] = []
        self._pending_chars = 0

    def _prefix(self, headings: tuple[str, ...]) -> tuple[str, int]:
        cached = self._prefix_cache.get(headings)
        if cached is None:
            prefix = heading_prefix(self.title, headings)
            tokens = _count(prefix) if prefix else 0
            limit = self.max_pieces // 3
            if tokens > limit:  # absurdly long headings: keep the last ones
                prefix = prefix[-300:]
                tokens = _count(prefix)
            if tokens > limit:  # 300 characters can be 300 pieces (CJK): keep the last pieces
                starts, _ = _piece_starts(prefix)
                prefix = prefix[starts[-limit] :].strip()
                tokens = _count(prefix)
            cached = (prefix, tokens)
            if len(self._prefix_cache) > 10_000:
                self._prefix_cache.clear()
            self._prefix_cache[headings] = cached
        return cached

    def chunks(self, blocks: Iterable[Block | Section]) -> Iterator[ChunkDraft]:
        # The current section as parallel lists of its units' texts, pages and code flags.
        texts: list[str] = []
        pages: list[int | None] = []
        codes: list[bool] = []
        key: tuple[str, ...] | None = None
        size = 0  # characters held: a section with no headings (a 1,000-page flat text) is cut
        for item in blocks:
            if type(item) is Section:
                new = item.texts
                if not all(new) or any(map(str.isspace, new)):  # checked in C, then in Python
                    new = [t for t in new if t and not t.isspace()]
                if not new:
                    continue
                page, is_code = None, False
            else:
                text = item.text
                if not text or text.isspace():
                    continue
                new, page, is_code = [text], item.page, item.is_code
            headings = item.headings
            if headings is not key and headings != key:
                if texts:
                    yield from self._queue(key, texts, pages, codes, size)
                    texts, pages, codes, size = [], [], [], 0
                key = headings
            added = sum(map(len, new))
            if size + added <= _SECTION_CHARS:
                texts += new
                pages += [page] * len(new)
                codes += [is_code] * len(new)
                size += added
                continue
            for text in new:  # cut right after the text that crosses the bound
                texts.append(text)
                pages.append(page)
                codes.append(is_code)
                size += len(text)
                if size > _SECTION_CHARS:
                    yield from self._queue(key, texts, pages, codes, size)
                    texts, pages, codes, size = [], [], [], 0
        if texts:
            yield from self._queue(key, texts, pages, codes, size)
        yield from self._flush()
        yield from self._packer.flush()

    def _queue(self, headings, texts, pages, codes, size: int) -> Iterator[ChunkDraft]:
        """Holds a section until ``_SECTION_CHARS`` of text wait; the chunks come out in the
        same order, with the same counts, as section by section."""
        self._pending.append((headings, texts, pages, codes))
        self._pending_chars += size
        if self._pending_chars >= _SECTION_CHARS:
            yield from self._flush()

    def _flush(self) -> Iterator[ChunkDraft]:
        pending, self._pending, self._pending_chars = self._pending, [], 0
        if not pending:
            return
        every = [t for _, texts, _, _ in pending for t in texts]
        counts = _with_unk(every, count_tokens_batch(every))
        at = 0
        for headings, texts, pages, codes in pending:
            yield from self._section(headings, texts, pages, codes, counts[at : at + len(texts)])
            at += len(texts)

    def _section(
        self,
        headings: tuple[str, ...],
        texts: list[str],
        pages: list,
        codes: list[bool],
        counts: list[int],
    ) -> Iterator[ChunkDraft]:
        prefix, prefix_tokens = self._prefix(headings)
        budget = max(MIN_BODY, min(self.chunk_size, self.max_pieces - prefix_tokens - 2))
        overlap = min(self.overlap, budget // 4)
        if max(counts) > budget:  # paragraphs too big for one chunk: split them
            texts, counts, pages, codes = _split_units(texts, counts, pages, codes, budget)
            if not texts:
                return
        ranges = _pack(counts, budget, overlap)
        yield from self._emit(prefix, prefix_tokens, headings, texts, pages, codes, ranges)

    def _emit(
        self,
        prefix: str,
        prefix_tokens: int,
        headings: tuple[str, ...],
        texts: list[str],
        pages: list[int | None],
        codes: list[bool],
        ranges: list[tuple[int, int, int]],
    ) -> Iterator[ChunkDraft]:
        """The chunks of one section, ``ranges`` being (start, end, body pieces) of units."""
        paged = pages.count(None) != len(pages)
        coded = any(codes)
        cap = HEADING_METADATA_CHARS
        shown = [h if len(h) <= cap else h[: cap - 1] + "…" for h in headings]
        join = "\n\n".join
        add = self._packer.add
        for start, end, used in ranges:
            if not coded:
                body = join(texts[start:end])
            else:  # consecutive code units (lines of one fence) join on a single newline
                parts = [texts[start]]
                for i in range(start + 1, end):
                    parts.append(("\n" if codes[i - 1] and codes[i] else "\n\n") + texts[i])
                body = "".join(parts)
            metadata: dict = {"headings": list(shown)} if headings else {}
            if paged:
                numbers = [p for p in pages[start:end] if p is not None]
                if numbers:
                    metadata["page"] = numbers[0]
                    if numbers[-1] != numbers[0]:
                        metadata["page_end"] = numbers[-1]
            text = f"{prefix}\n\n{body}" if prefix else body
            yield from add(headings, text, prefix_tokens + used, prefix_tokens, metadata)


def _pack(counts: list[int], budget: int, overlap: int) -> list[tuple[int, int, int]]:
    """Chunks of a section as (start, end, body pieces): ranges of its units, packed greedily.

    A chunk ends before the first unit (not its first) that would take it over ``budget``;
    the next one starts with whole trailing units of it worth up to ``overlap`` pieces, never
    all of them, and not if that with the next unit would not fit. Joining units on whitespace
    adds no word pieces, so a body's count is the sum of its units': with running sums, each
    chunk's end is found by bisection instead of a step per unit.
    """
    ends = [0, *accumulate(counts)]
    n = len(counts)
    ranges: list[tuple[int, int, int]] = []
    start = 0
    i = 0  # the unit that opened the current chunk (the first unit checked is the next)
    while True:
        i = bisect_right(ends, ends[start] + budget, i + 2) - 1
        if i >= n:
            break
        ranges.append((start, i, ends[i] - ends[start]))
        k = i - 1
        carried = 0
        while k > start and carried + counts[k] <= overlap:
            carried += counts[k]
            k -= 1
        start = i if carried + counts[i] > budget else k + 1
    ranges.append((start, n, ends[n] - ends[start]))
    return ranges


def _split_units(
    texts: list[str], counts: list[int], pages: list, codes: list[bool], budget: int
) -> tuple[list[str], list[int], list, list[bool]]:
    """The section's units with every one over ``budget`` replaced by its pieces."""
    texts, counts, pages, codes = texts[:], counts[:], pages[:], codes[:]
    for i in reversed([i for i, n in enumerate(counts) if n > budget]):
        pieces, piece_counts = _split_oversized(texts[i], codes[i], budget)
        texts[i : i + 1] = pieces
        counts[i : i + 1] = piece_counts
        pages[i : i + 1] = [pages[i]] * len(pieces)
        codes[i : i + 1] = [codes[i]] * len(pieces)
    return texts, counts, pages, codes


def chunk_blocks(
    blocks: Iterable[Block | Section], *, title: str, chunk_size: int = 200, overlap: int = 30
) -> Iterator[ChunkDraft]:
    """Chunks of ``blocks``; ``token_count`` is in embedder pieces, heading prefix included."""
    yield from Chunker(title=title, chunk_size=chunk_size, overlap=overlap).chunks(blocks)
