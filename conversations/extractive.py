"""The offline ``extractive`` chat provider (``CHAT_PROVIDER=extractive``, the default without an
API key): answers by quoting the passages that best match the question, with citation marks,
streamed in small pieces, and says that it is extractive. An answer longer than ``max_tokens``
is cut there, with ``finish_reason`` "length", as a model's would be."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from conversations.llm import LLMChunk, _usage
from conversations.prompting import count_tokens

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\[(])|\n{2,}")
_TOKEN = re.compile(r"[a-z0-9_]+")
_STOP_WORDS = (
    "a an and are as at be by can do does for from how i if in is it my of on or so that the "
    "this to was what when where which who why will with you your me we use using"
)
_STOP = frozenset(_STOP_WORDS.split(" "))
PIECE_WORDS = 3


def _terms(text: str) -> set[str]:
    return {w[:6] for w in _TOKEN.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _sentences(text: str) -> list[str]:
    """Prose sentences of a chunk: no code blocks, headings or the "path > heading" prefix."""
    kept: list[str] = []
    in_code = False
    for i, line in enumerate(text.splitlines()):
        s = line.strip()
        if s.startswith("```"):
            in_code = not in_code
            continue
        if in_code or s.startswith("#") or (i == 0 and " > " in s):
            continue
        kept.append(s.lstrip(">").strip())
    out = []
    for part in _SENTENCE.split("\n".join(kept)):
        part = " ".join(part.split())
        if 20 <= len(part) <= 400:
            out.append(part)
    return out


def extractive_answer(question: str, sources: Sequence[Any], *, max_sentences: int = 3) -> str:
    if not sources:
        return (
            "I could not find anything about that in the knowledge base "
            "(extractive mode: I only quote the documents)."
        )
    wanted = _terms(question)
    scored: list[tuple[float, int, int, str]] = []
    for n, chunk in enumerate(sources, 1):
        for pos, sentence in enumerate(_sentences(chunk.text)):
            overlap = len(wanted & _terms(sentence))
            # Earlier (better-ranked) sources and earlier sentences win ties.
            scored.append((overlap - 0.01 * n - 0.001 * pos, n, pos, sentence))
    scored.sort(reverse=True)
    picked = sorted(scored[:max_sentences], key=lambda s: (s[1], s[2]))
    if not picked:
        first = sources[0].text.strip().splitlines()
        return f"From the documentation (extractive answer): {' '.join(first)[:400]} [1]"
    body = " ".join(f"{s[3]} [{s[1]}]" for s in picked)
    return f"From the documentation (an extractive answer quoting the best passages): {body}"


class ExtractiveProvider:
    name = "extractive"

    async def stream(
        self,
        *,
        messages: list[dict[str, str]],
        model: str,
        temperature: float,
        max_tokens: int,
        sources: Sequence[Any],
        question: str,
    ) -> AsyncIterator[LLMChunk]:
        answer = extractive_answer(question, sources)
        words = re.findall(r"\s*\S+", answer)
        completion = count_tokens(answer)
        finish = "stop"
        if completion > max_tokens:
            words, completion = _cut(words, max_tokens)
            finish = "length"
        for i in range(0, len(words), PIECE_WORDS):
            yield LLMChunk(text="".join(words[i : i + PIECE_WORDS]))
            await asyncio.sleep(0)  # let the transport send each piece as it comes
        prompt = sum(count_tokens(m["content"]) for m in messages)
        yield LLMChunk(finish_reason=finish, usage=_usage(prompt, completion))


def _cut(words: list[str], max_tokens: int) -> tuple[list[str], int]:
    """The leading words of the answer that fit in ``max_tokens`` tokens, and their count.

    Whole words: a word that would pass the limit is left out, not split, so the count is
    exactly that of the text sent (a text's count is the sum of its words': see
    ``datasets.tokens``) and usage reports it.
    """
    total = 0
    for n, word in enumerate(words):
        tokens = count_tokens(word)
        if total + tokens > max_tokens:
            return words[:n], total
        total += tokens
    return words, total
