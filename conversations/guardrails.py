"""Input guardrails (blocked terms/topics) and output redaction that works on a token stream.

Matching happens on a normalised form of the text: Unicode NFKC, casefold, zero-width and soft
hyphen characters removed, common Cyrillic/Greek look-alikes folded to Latin, whitespace collapsed,
and letters spelled out with separators ("b o m b", "b.o.m.b") joined.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

_INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"),
    None,
)
# Look-alikes that NFKC leaves alone (Cyrillic, Greek, a few Latin extensions).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "к": "k", "м": "m", "т": "t",
        "в": "b", "н": "h", "ɡ": "g", "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k",
        "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "β": "b", "ѡ": "w", "ԛ": "q",
        "ı": "i", "ℓ": "l",
    }
)  # fmt: skip
_SPELLED_OUT = re.compile(r"(?<!\w)(?:\w[\s.\-_*·]+){2,}\w(?!\w)")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_INVISIBLE)
    text = text.casefold().translate(_CONFUSABLES)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text).strip()


def spelled_out_runs(norm: str) -> list[str]:
    """Letters spelled out with separators ("b o m b", "b.o.m.b"), joined: ["bomb"]."""
    return [re.sub(r"[\s.\-_*·]+", "", m.group(0)) for m in _SPELLED_OUT.finditer(norm)]


def _contains_phrase(haystack: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", haystack) is not None


def blocked_match(
    text: str, *, terms: Iterable[str] = (), topics: Iterable[str] = ()
) -> str | None:
    """The blocked term or topic the text hits, or None.

    A term matches as a whole word or phrase. A topic matches as a phrase, or when every one of
    its content words (3+ letters) starts a word of the text ("weapons manufacturing" catches
    "how do I manufacture a weapon").
    """
    norm = normalize(text)
    words = _WORD.findall(norm)
    runs = spelled_out_runs(norm)
    for term in terms:
        t = normalize(term)
        if t and _contains_phrase(norm, t):
            return term
        squashed = t.replace(" ", "")
        if squashed and any(squashed in run for run in runs):
            return term
    for topic in topics:
        t = normalize(topic)
        if not t:
            continue
        if _contains_phrase(norm, t):
            return topic
        content = [w for w in _WORD.findall(t) if len(w) >= 3]
        if content and all(any(w.startswith(_stem(c)) for w in words) for c in content):
            return topic
    return None


def without_blocked_turns(
    history: list[dict[str, str]], *, terms: Iterable[str] = (), topics: Iterable[str] = ()
) -> list[dict[str, str]]:
    """``history`` without its user turns that ``blocked_match`` refuses, nor the answers that
    follow them (a client-written history: the model must not read a blocked question there),
    nor assistant turns it refuses: on the OpenAI route the client writes those too, and a
    blocked subject put in a made-up answer, then "tell me more about that", passed."""
    kept: list[dict[str, str]] = []
    blocked = False
    for turn in history:
        if turn["role"] == "user":
            blocked = blocked_match(turn["content"], terms=terms, topics=topics) is not None
        if blocked:
            continue
        if (
            turn["role"] == "user"
            or blocked_match(turn["content"], terms=terms, topics=topics) is None
        ):
            kept.append(turn)
    return kept


def _stem(word: str) -> str:
    return word[: max(4, len(word) - 3)] if len(word) > 5 else word


# --------------------------------------------------------------------------- output redaction
REDACTED = "[redacted]"
_IMAGE_LINK = re.compile(
    r"!\[([^\]\n]{0,500})\]\(\s*<?(?:[a-z][a-z0-9+.\-]*:)?//[^)\s]*[^)]*\)", re.I
)
# "![alt][ref]" with "[ref]: https://..." elsewhere loads the image just the same.
_IMAGE_REF = re.compile(r"!\[([^\]\n]{0,500})\]\s?\[[^\]\n]{0,200}\]")
_MAX_HOLD = 2000
SECRET_MIN_RUN = 20


def _atoms(term: str) -> list[str]:
    """A term as regular-expression atoms, one per character; the whitespace between its words
    is one atom matching any run of it (a model may wrap a line or use a no-break space)."""
    atoms: list[str] = []
    for word in term.split():
        if atoms:
            atoms.append(r"\s+")
        atoms.extend(re.escape(ch) for ch in word)
    return atoms


@functools.lru_cache(maxsize=256)
def _patterns(terms: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(the terms, longest first; a non-empty start of one of them at the end of a text).

    The second decides what to hold back, under the same ``re.I`` equality as the redaction
    ("abc": ``a(?:b(?:c)?)?\\Z``). A comparison of casefolded strings held too little:
    casefold is not re.I's equality (ı, I) and can change a text's length (ß -> ss), so a term
    cut between two deltas went out unredacted."""
    whole, starts = [], []
    for term in sorted(terms, key=len, reverse=True):
        atoms = _atoms(term)
        whole.append("".join(atoms))
        nested = ""
        for atom in reversed(atoms[1:]):
            nested = f"(?:{atom}{nested})?"
        starts.append(atoms[0] + nested)
    return re.compile("|".join(whole), re.I), re.compile(f"(?:{'|'.join(starts)})\\Z", re.I)


class StreamRedactor:
    """Removes redact terms and external Markdown images from text that arrives in pieces.

    ``feed`` returns what is safe to emit now; a suffix that could still become a redact term or
    an image link is held back until more text (or ``flush``) decides.
    """

    def __init__(self, terms: Iterable[str] = (), *, secret: str = "") -> None:
        # ``secret``: text the answer must never quote at length (the bot's system prompt).
        self.secret = secret if len(secret) >= SECRET_MIN_RUN else ""
        self.terms = [t for t in (str(t).strip() for t in terms) if t]
        self._term_re, self._prefix_re = (
            _patterns(tuple(self.terms)) if self.terms else (None, None)
        )
        # How far back a held start may begin (twice the longest term: room for wider spaces).
        self._window = 2 * max((len(t) for t in self.terms), default=0)
        self._buf = ""

    @property
    def active(self) -> bool:
        return True  # images are always stripped

    def _clean(self, text: str) -> str:
        text = _IMAGE_LINK.sub(lambda m: m.group(1), text)
        text = _IMAGE_REF.sub(lambda m: m.group(1), text)
        if self._term_re is not None:
            text = self._term_re.sub(REDACTED, text)
        return text

    def _hold_from(self, text: str) -> int:
        hold = len(text)
        # An unfinished image link: "![alt](http..." without its ")".
        start = text.rfind("![")
        if start != -1 and ")" not in text[start:] and len(text) - start < _MAX_HOLD:
            hold = start
        elif text.endswith("!"):
            hold = len(text) - 1
        # A suffix that may grow into a redact term (the longest: the leftmost match).
        if self._prefix_re is not None:
            tail = self._prefix_re.search(text, max(0, len(text) - self._window))
            if tail is not None:
                hold = min(hold, tail.start())
        return hold

    def _guard(self, text: str, *, final: bool) -> tuple[str, str]:
        """Replace every run of SECRET_MIN_RUN+ characters quoted from the secret; a tail that
        is still quoting it is returned apart (held) unless ``final``."""
        if not self.secret:
            return text, ""
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            length = 0
            while i + length < n and text[i : i + length + 1] in self.secret:
                length += 1
            if i + length == n and length and not final:
                return "".join(out), text[i:]  # may go on quoting: decide with more text
            if length >= SECRET_MIN_RUN:
                out.append(REDACTED)
                i += length
            else:
                out.append(text[i])
                i += 1
        return "".join(out), ""

    def feed(self, piece: str) -> str:
        self._buf = self._clean(self._buf + piece)
        cut = self._hold_from(self._buf)
        out, self._buf = self._buf[:cut], self._buf[cut:]
        out, held = self._guard(out, final=False)
        self._buf = held + self._buf
        return out

    def flush(self) -> str:
        out, _ = self._guard(self._clean(self._buf), final=True)
        self._buf = ""
        return out


def redact(text: str, terms: Iterable[str] = ()) -> str:
    r = StreamRedactor(terms)
    return r.feed(text) + r.flush()


def redact_terms(text: str, terms: Iterable[str]) -> str:
    """``text`` with a scope's redact terms removed; untouched when there are none (text shown
    as a source, e.g. citations and retrieval results, not the model's answer)."""
    return redact(text, terms) if terms and text else text


def redact_headings(metadata: dict[str, Any], terms: Iterable[str]) -> dict[str, Any]:
    """A chunk's metadata with ``terms`` removed from its ``headings`` (copied from the
    document's text, which is shown redacted)."""
    headings = metadata.get("headings") if terms else None
    if not isinstance(headings, list):
        return metadata
    return {**metadata, "headings": [redact_terms(str(h), terms) for h in headings]}
