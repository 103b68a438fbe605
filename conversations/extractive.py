"""The offline ``extractive`` chat provider (``CHAT_PROVIDER=extractive``, the default without an
API key): answers by quoting the passages that best match the question, with citation marks,
streamed in small pieces, and says that it is extractive: in the question's language when it has
phrases for it, else in the quotes', else in English (``answer_language``). When no sentence of
the passages (nor a heading over one) shares a content word with the question, or with a short
follow-up's earlier questions, it quotes nothing and says it found nothing (``matched``): with
a bot's ``score_threshold`` of 0 retrieval returns passages, related or not. An answer longer
than ``max_tokens`` is cut there, with ``finish_reason`` "length", as a model's would be; one
holding a ``stop`` string (the OpenAI route's) ends before it, with ``finish_reason`` "stop", as
OpenAI's does."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from conversations.answer_language import detect, function_words, phrases
from conversations.llm import LLMChunk, _usage
from conversations.prompting import count_tokens
from conversations.unspaced import (
    CJK_END,
    RUN,
    THAI_END,
    THAI_MIN,
    split_runs,
    unwrap,
    width,
)

# A sentence ends at . ! ? (or Arabic ؟, CJK 。！？) before a space and what may open a sentence:
# a letter that is not lower case (upper case, or a script without case: Arabic, Hebrew, CJK...),
# a backtick or a bracket ("e.g. the" stays one sentence); or at a blank line (``_split``).
_BREAK = re.compile(r"(?<=[.!?\u061f\u3002\uff01\uff1f])\s+(?=[^\s\W\d_]|[`\[(])|(?P<para>\n{2,})")
# Text with Chinese, Japanese or Thai in it (``unspaced``): also at CJK 。！？．, with or without
# a space after, and at a space between Thai letters. (Three times slower: only for such text.)
_BREAK_UNSPACED = re.compile(
    rf"(?<=[.!?\u061f])\s+(?=[^\s\W\d_]|[`\[(])|{CJK_END}|{THAI_END}|(?P<para>\n{{2,}})"
)
# Words of any script ("Fläche", "الأسعار", "MAX_UPLOAD_BYTES"): the stop words and the light
# stemmer below are English; other languages' words are matched as they are written (cut to
# the same 7 letters), which is what keeps Arabic or German questions from matching nothing.
_TOKEN = re.compile(r"\w+")
_STOP_WORDS = (
    "a an and are as at be by can do does for from how i if in is it my of on or so that the "
    "this to was what when where which who why will with you your me we use using"
)
_STOP = frozenset(_STOP_WORDS.split(" "))
_CODE = re.compile(  # a line of code left outside a fenced block (indented blocks, docstrings)
    r"^(class|def|return|from|import|if|for|@)\b|^[\w.]+ = |^\"\"\"|[{;=]\s*$|^[\w.]+\(.*\):?$"
)
_ITEM = re.compile(r"[-*+]\s+|\d{1,2}[.)]\s+")
PIECE_WORDS = 3
HEADING_WEIGHT = 0.5  # a term found only in the chunk's "title > heading" line counts half
RANK_PENALTY = 0.05  # each source further down the ranking takes this share off its scores


def _stem(word: str) -> str:
    """A light suffix stripper: run/runs/running, index/indexes, query/queries, fail/failed."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            if suffix == "es" and not word.endswith(("ses", "xes", "ches", "shes", "zes")):
                continue
            word = word[: -len(suffix)] + keep
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2] not in "ls":
                word = word[:-1]  # running -> run, but not pull/pass
            break
    return word[:7]


def _terms(text: str) -> set[str]:
    """Stemmed content words; an identifier's parts count too (MAX_UPLOAD_BYTES: upload).
    Chinese, Japanese and Thai runs give their character bigrams (``unspaced``)."""
    text = text.lower()
    grams: set[str] = set()
    if not text.isascii():
        text, grams = split_runs(text)
    words = _TOKEN.findall(text)
    words += [p for w in words if "_" in w for p in w.split("_")]
    return {_stem(w) for w in words if w not in _STOP and len(w) > 1} | grams


def _question_terms(question: str) -> set[str]:
    """``_terms`` of a question, without the function words of its language when that is not
    English ("Wie füge ich Dokumente hinzu?": not "wie", "ich"), which would otherwise match
    any sentence of that language, or an English one quoting them."""
    terms = _terms(question)
    drop = function_words(detect(question))
    return terms - {_stem(w) for w in drop} if drop else terms


def _heading(text: str) -> str:
    """The chunk's "title > heading > subheading" first line (what ``chunking`` prefixes)."""
    first = text.lstrip().split("\n", 1)[0]
    return first if " > " in first or first.startswith("#") else ""


def _sections(text: str, title: str = "") -> list[tuple[str, list[str]]]:
    """(heading line, its lines) of a chunk: one part, or several when small sections share the
    chunk (``datasets/chunk_packing.py``: each later one opens with its own "title > ..." line,
    which starts as the chunk's first line does). ``title``: the document's, when known."""
    heading = _heading(text)
    # The document title: before the first " > ", or the whole first line of a chunk whose
    # first section has no heading (its prefix is the bare title).
    first = text.lstrip().split("\n", 1)[0].strip()
    if not heading and first and title.strip().endswith(first):
        heading = first  # the title (its end when too long): context, not a sentence to quote
    root = heading.split(" > ", 1)[0] if " > " in heading else first
    marker = root + " > " if root else None
    parts: list[tuple[str, list[str]]] = [(heading, [])]
    for i, line in enumerate(text.lstrip().splitlines()):
        if i == 0 and heading:
            continue
        if marker and line.startswith(marker):
            parts.append((line.strip(), []))
        else:
            parts[-1][1].append(line)
    return parts


def _sentences(text: str, title: str = "") -> list[str]:
    """Prose sentences of a chunk: no code blocks, headings or "path > heading" lines."""
    return [s for _, lines in _sections(text, title) for s in _prose(lines)]


def _prose(lines: list[str]) -> list[str]:
    """Prose sentences of some of a chunk's lines (no code blocks or headings)."""
    kept: list[str] = []
    in_code = False
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("```"):
            in_code = not in_code
            continue
        if in_code or s.startswith("#"):
            continue
        if s.startswith("|"):  # a Markdown table's row: its cells as a sentence of their own
            kept.extend(("", _table_row(s, lines[i + 1] if i + 1 < len(lines) else "")))
            continue
        item = _ITEM.match(s)
        if item:  # a list item is a sentence of its own, without its marker
            kept.append("")
            s = s[item.end() :]
        kept.append(s.lstrip(">").strip())
    out = []
    for part in _split(unwrap("\n".join(kept))):
        part = " ".join(part.split())
        if 20 <= width(part) <= 400 and not _CODE.search(part):
            out.append(part)
    return out


def _split(text: str) -> list[str]:
    """Sentences (see ``_BREAK``): "... ready. Die Datei ..." and "... صفحة. ثم ..." split,
    "... e.g. the ..." does not; "...器。它..." does, its 。 (and a closing 」) kept."""
    out: list[str] = []
    start = 0
    unspaced = not text.isascii() and RUN.search(text)
    for m in (_BREAK_UNSPACED if unspaced else _BREAK).finditer(text):
        end, kind = m.start(), m.lastgroup  # the named group that matched, if any
        if kind == "cjk":
            end = m.end("cjk")
        elif kind == "thai":
            if m.start() - start < THAI_MIN:
                continue  # a short Thai clause goes on into the next one
        elif kind is None and "\n\n" not in m.group() and text[m.end()].islower():
            continue  # not a sentence start
        out.append(text[start:end])
        start = m.end()
    out.append(text[start:])
    return out


_TABLE_RULE = re.compile(r"^\|?[\s:|-]*-[\s:|-]*\|?$")


def _table_row(row: str, following: str) -> str:
    """A table row as a sentence: its non-empty cells joined by " - "; "" for the rule under
    the header and for the header itself (column names say nothing without their cells)."""
    if _TABLE_RULE.match(row) or _TABLE_RULE.match(following.strip()):
        return ""
    cells = [c.strip() for c in row.strip().strip("|").split("|")]
    text = " - ".join(c for c in cells if c)
    if text.endswith((".", "!", "?", ":", "\u3002", "\uff01", "\uff1f", "\uff1a")):
        return text
    return f"{text}\u3002" if width(text[-1:]) > 1 else f"{text}."  # 。 after Han or Kana


def _title(chunk: Any) -> str:
    return getattr(chunk, "document_title", "") or ""


def _ranked(question: str, sources: Sequence[Any]) -> list[tuple[float, int, int, str, float]]:
    """(score, source number, position, sentence, score before the tie-breaks), best first.

    A sentence scores the IDF-weighted question terms it holds (IDF over all the candidate
    sentences, so a term every passage repeats counts little), plus half for those only its
    chunk's heading holds; better-ranked sources weigh more. The last item is 0 for a sentence
    that shares no term with the question (nor does its heading), above 0.27 for any other."""
    wanted = _question_terms(question)
    candidates = []
    for n, chunk in enumerate(sources, 1):
        pos = 0
        for heading, lines in _sections(chunk.text, _title(chunk)):
            context = _terms(heading) & wanted
            for sentence in _prose(lines):
                candidates.append((n, pos, sentence, _terms(sentence) & wanted, context))
                pos += 1
    total = len(candidates)
    df = {t: sum(t in c[3] or t in c[4] for c in candidates) for t in wanted}
    idf = {t: math.log(1 + (total + 1) / (df[t] + 0.5)) for t in wanted}
    scored = []
    for n, pos, sentence, own, context in candidates:
        score = sum(idf[t] for t in own) + HEADING_WEIGHT * sum(idf[t] for t in context - own)
        score *= 1 - RANK_PENALTY * min(n - 1, 4)
        # Earlier (better-ranked) sources and earlier sentences win ties.
        scored.append((score - 0.001 * n - 0.0001 * pos, n, pos, sentence, score))
    scored.sort(reverse=True)
    return scored


def extractive_answer(
    question: str, sources: Sequence[Any], *, max_sentences: int = 3, followed: str = ""
) -> str:
    """``followed``: a short follow-up's retrieval query (``followup.retrieval_query``: the
    earlier questions, then this one), matched when the question's own words match nothing."""
    scored = matched(question, sources, followed)
    if scored is None:  # no source, or none about the question
        return phrases(question).nothing
    # Best first: the answer opens with its best sentence; one that shares no term with the
    # question (nor its heading) is not quoted beside it, whatever else was retrieved.
    picked = [s for s in scored if s[4] > 0][:max_sentences]
    if not picked:  # no prose: the first source's lines, without its heading lines
        parts = _sections(sources[0].text, _title(sources[0]))
        first = [line for _, lines in parts for line in lines if line.strip()]
        first = first or sources[0].text.strip().splitlines()
        excerpt = " ".join(first)[:400]
        return f"{phrases(question, excerpt).excerpt}{excerpt} [1]"
    body = " ".join(f"{s[3]} [{s[1]}]" for s in picked)
    return phrases(question, " ".join(s[3] for s in picked)).answer + body


def matched(
    question: str, sources: Sequence[Any], followed: str = ""
) -> list[tuple[float, int, int, str, float]] | None:
    """The sentences ranked by the question (``_ranked``); when none shares a content term
    with it (stop words left out, stems and CJK bigrams as ``_terms`` makes them; a term of
    the heading over a sentence counts), ranked by ``followed`` instead ("and how do I set
    its size?" after a question about pagination); None when neither matches any, or there
    are no sources: nothing to quote. A source without prose (code, a table header: ``[]``)
    counts when its text shares a term with either."""
    if not sources:
        return None
    scored = _ranked(question, sources)
    if any(s[4] > 0 for s in scored):
        return scored
    if followed and followed != question:
        again = _ranked(followed, sources)
        if any(s[4] > 0 for s in again):
            return again
    if scored:
        return None
    wanted = _question_terms(question) | (_question_terms(followed) if followed else set())
    return [] if _terms(sources[0].text) & wanted else None


def followed_query(question: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """What retrieval searched with for ``question`` (``followup.retrieval_query``), read from
    the prompt's turns (the system prompt first, the question with the sources last): the
    earlier questions the chat path kept are the provider's only view of them."""
    from conversations.followup import retrieval_query  # (it imports this module)

    return retrieval_query(question, [dict(m) for m in messages[1:-1]])


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
        sampling: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[LLMChunk]:
        """``sampling``: of the OpenAI route's options only ``stop`` applies to a quote."""
        followed = followed_query(question, messages)
        answer = extractive_answer(question, sources, followed=followed)
        answer = _before_stop(answer, (sampling or {}).get("stop"))
        words = _pieces(answer)
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


# The answer's words; each Han character its own word (BERT's tokenizer counts them one by one,
# so counts still add up exactly): a Chinese sentence streams in pieces and ``max_tokens`` cuts
# inside it, not before it. Whitespace before the end is kept on the last word (``stop``).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ceaf\U0002f800-\U0002fa1f"
_WORDS = re.compile(rf"\s*[^\s{_HAN}]+\s*$|\s*[{_HAN}]\s*$|\s*[{_HAN}]|\s*[^\s{_HAN}]+")


def _pieces(answer: str) -> list[str]:
    return (
        _WORDS.findall(answer) if not answer.isascii() else re.findall(r"\s*\S+\s*$|\s*\S+", answer)
    )


def _before_stop(answer: str, stop: str | list[str] | None) -> str:
    """The answer up to the first of the ``stop`` strings it holds (that string left out, as
    OpenAI leaves it out); an empty string stops nothing."""
    stops = [stop] if isinstance(stop, str) else stop or []
    found = [i for i in (answer.find(s) for s in stops if s) if i >= 0]
    return answer[: min(found)] if found else answer


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
