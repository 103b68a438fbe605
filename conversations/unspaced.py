"""Text in scripts written without spaces between words (Chinese, Japanese, Thai), for the
offline ``extractive`` provider (``conversations/extractive.py``) and the follow-up rule
(``conversations/followup.py``).

``\\w+`` reads a whole Chinese or Japanese sentence as one word (and cuts Thai at every vowel
mark), so a question shared no term with the sentence that answers it. Here such runs give
overlapping character bigrams instead ("序列化器": 序列, 列化, 化器; a one-character run is its
own term), the usual dictionary-free matching for these scripts. Korean writes spaces between
words: Hangul stays in ``\\w+`` words as before. All of it is skipped for ASCII text.
"""

from __future__ import annotations

import re

# Han (with 々 and the compatibility and extension-B ideographs), Hiragana, Katakana (with
# ー, the phonetic extensions and the half-width forms).
_HAN_KANA = (
    "\u3005\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0002a6df"
)
_THAI = "\u0e01-\u0e3a\u0e40-\u0e4e"  # letters and vowel/tone marks (no digits, no ฿)
RUN = re.compile(f"[{_HAN_KANA}]+|[{_THAI}]+")
_WIDE = re.compile(f"[{_HAN_KANA}]")
# A line break inside a wrapped CJK paragraph is not a space between words.
_WRAP = re.compile(f"(?<=[{_HAN_KANA}])[ \\t]*\\n[ \\t]*(?=[{_HAN_KANA}])")

# Sentence ends without a space after them: 。！？．｡ (with any closing quotes or brackets
# right after), and . ! ? straight before Han or Kana ("...配置?然后..."). A space between two
# Thai letters ends a sentence or clause (``_split`` keeps clauses of at least ``THAI_MIN``).
_CLOSE = "\u300d\u300f\uff09\u3011\u3015\u3009\u300b\u201d\u2019\"')\\]"
CJK_END = (
    f"(?P<cjk>[\u3002\uff01\uff1f\uff61]+[{_CLOSE}]*|\uff0e(?![\uff10-\uff19\\d])[{_CLOSE}]*"
    f"|[.!?](?=[{_HAN_KANA}]))\\s*(?=\\S)"
)
THAI_END = "(?P<thai>(?<=[\u0e01-\u0e4e])[ \\t]+(?=[\u0e01-\u0e4e]))"
THAI_MIN = 40


# Question words, the stop words of these bigrams ("什么是序列化器？" is about 序列化器, not
# about a sentence that asks 什么): left out of the terms of questions and sentences alike.
_STOP_BIGRAM_LIST = (
    "什么 什麼 怎么 怎麼 怎样 怎樣 如何 哪些 哪个 哪個 为什 為什 多少 是否 "
    "とは 何で なん どう です すか ます"
)
_STOP_BIGRAMS = frozenset(_STOP_BIGRAM_LIST.split(" "))


def bigrams(run: str) -> set[str]:
    """Overlapping character pairs of a run (a one-character run: that character), without
    the question words of ``_STOP_BIGRAMS``."""
    if len(run) == 1:
        return {run}
    return {run[i : i + 2] for i in range(len(run) - 1)} - _STOP_BIGRAMS


def split_runs(text: str) -> tuple[str, set[str]]:
    """(``text`` with its unspaced runs blanked out, the bigrams of those runs)."""
    grams: set[str] = set()

    def blank(m: re.Match[str]) -> str:
        grams.update(bigrams(m.group()))
        return " "

    return RUN.sub(blank, text), grams


def unwrap(text: str) -> str:
    """``text`` without the line breaks that wrap a CJK paragraph (no space goes there)."""
    return text if text.isascii() else _WRAP.sub("", text)


def width(text: str) -> int:
    """Length with each Han or Kana character counted three times (such a character holds
    about what three Latin letters do: "分页有什么用处呢？", 9 characters, is a sentence)."""
    return len(text) if text.isascii() else len(text) + 2 * len(_WIDE.findall(text))


# Words of a short CJK follow-up that say nothing of its subject: pronouns, particles,
# question words ("那它呢？", "それはどうですか？"). Hiragana is mostly grammar: not counted.
_VAGUE_CJK = re.compile(
    "为什么|為什麼|什么|什麼|怎么样|怎麼樣|怎么|怎麼|怎样|如何|哪些|哪个|哪個|多少|关于|關於|"
    "对于|對於|其他|其它|那么|那麼|那个|那個|这个|這個|可以|它们|它們|我们|我們|你们|"
    "[那这這它他她呢吗嗎吧啊呀的地得了还還也又和与與及或是有在哪个個请請问問我你您们們"
    "能会會要用何]|[\u3040-\u309f]+"
)
_KATAKANA_RUN = re.compile("[\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]+")
_HAN_RUN = re.compile("[\u3005\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df]+")


def subject_words(text: str) -> set[str]:
    """Stand-ins for the content words of the unspaced runs of ``text``, for counting them:
    a Katakana run is one word (a loanword: シリアライザー), a Han run one word per two
    characters (序列化器: 序列, 化器), Thai one per four letters; the words of
    ``_VAGUE_CJK`` and Hiragana are left out."""
    words: set[str] = set()
    for run in RUN.findall(text):
        if "\u0e01" <= run[0] <= "\u0e4e":  # Thai
            words.update(run[i : i + 4] for i in range(0, len(run), 4))
            continue
        rest = _VAGUE_CJK.sub(" ", run)
        words.update(_KATAKANA_RUN.findall(rest))
        for han in _HAN_RUN.findall(_KATAKANA_RUN.sub(" ", rest)):
            words.update(han[i : i + 2] for i in range(0, len(han), 2))
    return words
