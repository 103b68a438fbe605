"""What a chat turn retrieves with: the question, or for a short follow-up ("And per user?",
"What about hyperlinks?") the question after the user's previous question(s).

Retrieval read only the new message, so an elliptical follow-up matched whatever its one or two
words matched anywhere ("And JSON?" after a question about file uploads found serializers, not
parsers). A question with at most ``FOLLOW_UP_TERMS`` content words is a follow-up when the
conversation has an earlier user turn: the earlier questions are put before it, most recent
first, until the query holds more than that many content words (at most ``MAX_TURNS`` of them,
each cut to ``MAX_TURN_CHARS``). No model call: the words are counted as the extractive
provider counts them (stemmed, stop words left out); Chinese and Japanese, written without
spaces, by an estimate of their words (``unspaced.subject_words``: "那它呢？" has none).

Measured on drf-docs (hybrid, 16 two-turn conversations written for this, each follow-up's
document known; bench/README.md "Follow-up questions"): the follow-up's document in the top 5
for 9 of 16 alone and 16 of 16 this way, first for 5 and 14. A full question (say a change of
subject, "How do I version my API?") is retrieved alone, as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from conversations.extractive import _TOKEN, _terms
from conversations.unspaced import RUN, subject_words

FOLLOW_UP_TERMS = 2
MAX_TURNS = 3
MAX_TURN_CHARS = 500
# Words a follow-up leans on that say nothing of its subject (beyond the extractive stop words).
_VAGUE_WORDS = (
    "about above again also any anything else it its more none other others per same so some "
    "than that them then there these they those too very"
)
_VAGUE = frozenset(_VAGUE_WORDS.split(" "))
_WORD = _TOKEN  # as extractive's tokens: words of any script


def _subject_terms(text: str) -> set[str]:
    """Content words; Chinese, Japanese and Thai runs count by ``unspaced.subject_words`` (their
    matching bigrams would make "那序列化器呢？" five terms, a full question)."""
    text = text.lower()
    unspaced: set[str] = set()
    if not text.isascii():
        unspaced = subject_words(text)
        text = RUN.sub(" ", text)
    return _terms(" ".join(w for w in _WORD.findall(text) if w not in _VAGUE)) | unspaced


def retrieval_query(question: str, history: Iterable[dict[str, str]]) -> str:
    """``question``, or the earlier user questions and then it (see the module docstring)."""
    earlier = [
        text.strip()[:MAX_TURN_CHARS]
        for turn in history
        if turn.get("role") == "user"
        and isinstance(text := turn.get("content"), str)
        and text.strip()
    ]  # oldest first; a first turn (none) costs nothing more on the chat path
    if not earlier:
        return question
    terms = _subject_terms(question)
    parts = [question]
    for text in reversed(earlier[-MAX_TURNS:]):
        if len(terms) > FOLLOW_UP_TERMS:
            break
        parts.insert(0, text)
        terms |= _subject_terms(text)
    return question if len(parts) == 1 else " ".join(parts)
