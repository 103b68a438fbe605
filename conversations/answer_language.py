"""The language of the offline ``extractive`` provider's own words (``extractive.py``): the
sentence its answer opens with and the one it says when it found nothing. The quotes are the
documents' own; these words are chosen in the end user's language, read from the question.

``detect`` is cheap and dictionary-free, made for short questions:

- a non-Latin script that outweighs the Latin letters decides: Arabic -> ar, Hangul -> ko,
  Cyrillic -> ru, Han and Kana -> ja when any Kana is there, else zh (a Han or Kana character
  weighs three Latin letters, a Hangul syllable two). Any other script (Hebrew, Greek, Thai...),
  and letters that only Persian or Urdu (in Arabic script) or Ukrainian, Belarusian, Serbian
  or Macedonian (in Cyrillic) use, are a language without phrases here: "";
- Latin script: a vote of function words ("wie", "ich", "est", "qué", "het"...) and of a few
  letters that one or two of the languages use (ß, ñ, ¿, ã...) among en, de, fr, es, pt, it,
  nl; letters of other Latin-script languages (ł, ş, å, ř...) vote for "". The winner needs
  ``MIN_VOTES`` and strictly more than any other, else the language is unclear (None):
  "APIView?", "Warum?", "Wie funktioniert the throttling?".

``phrases(question, quoted)``: the phrases of the question's language; when that is unclear,
of the quoted sentences' language (same detector); English for the rest, and for the
languages without phrases here (Thai, Hebrew, Persian, Ukrainian, Polish, Turkish...).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Phrases(NamedTuple):
    answer: str  # before the quoted sentences
    excerpt: str  # before a chunk's opening lines (no prose sentence to quote)
    nothing: str  # no source at all


# English's are byte for byte the provider's original sentences. French sets a no-break space
# before its colon (as the widget's French texts do); Chinese and Japanese use full-width
# brackets and colon, with no space before the quote.
PHRASES: dict[str, Phrases] = {
    "en": Phrases(
        "From the documentation (an extractive answer quoting the best passages): ",
        "From the documentation (extractive answer): ",
        "I could not find anything about that in the knowledge base "
        "(extractive mode: I only quote the documents).",
    ),
    "de": Phrases(
        "Aus der Dokumentation (eine extraktive Antwort, die die passendsten Stellen zitiert): ",
        "Aus der Dokumentation (extraktive Antwort): ",
        "Dazu habe ich in der Wissensdatenbank nichts gefunden "
        "(extraktiver Modus: Ich zitiere nur die Dokumente).",
    ),
    "fr": Phrases(
        "D'après la documentation (une réponse extractive qui cite les passages les plus "
        "pertinents)\u00a0: ",
        "D'après la documentation (réponse extractive)\u00a0: ",
        "Je n'ai rien trouvé à ce sujet dans la base de connaissances "
        "(mode extractif\u00a0: je ne fais que citer les documents).",
    ),
    "es": Phrases(
        "Según la documentación (una respuesta extractiva que cita los pasajes más relevantes): ",
        "Según la documentación (respuesta extractiva): ",
        "No encontré nada sobre eso en la base de conocimientos "
        "(modo extractivo: solo cito los documentos).",
    ),
    "pt": Phrases(
        "Segundo a documentação (uma resposta extrativa que cita os trechos mais relevantes): ",
        "Segundo a documentação (resposta extrativa): ",
        "Não encontrei nada sobre isso na base de conhecimento "
        "(modo extrativo: apenas cito os documentos).",
    ),
    "it": Phrases(
        "Dalla documentazione (una risposta estrattiva che cita i passaggi più pertinenti): ",
        "Dalla documentazione (risposta estrattiva): ",
        "Non ho trovato nulla al riguardo nella base di conoscenza "
        "(modalità estrattiva: cito solo i documenti).",
    ),
    "nl": Phrases(
        "Uit de documentatie (een extractief antwoord dat de best passende passages citeert): ",
        "Uit de documentatie (extractief antwoord): ",
        "Ik heb daar niets over gevonden in de kennisbank "
        "(extractieve modus: ik citeer alleen de documenten).",
    ),
    "ar": Phrases(
        "من الوثائق (إجابة استخراجية تقتبس أنسب المقاطع): ",
        "من الوثائق (إجابة استخراجية): ",
        "لم أجد شيئًا عن ذلك في قاعدة المعرفة (الوضع الاستخراجي: أقتبس من الوثائق فقط).",
    ),
    "zh": Phrases(
        "根据文档（抽取式回答，引用最相关的段落）：",
        "根据文档（抽取式回答）：",
        "知识库中没有找到相关内容（抽取模式：我只引用文档原文）。",
    ),
    "ja": Phrases(
        "ドキュメントより（最も関連する箇所を引用した抽出型の回答）：",
        "ドキュメントより（抽出型の回答）：",
        "ナレッジベースに該当する情報が見つかりませんでした（抽出モード：ドキュメントを引用するのみです）。",
    ),
    "ko": Phrases(
        "문서에 따르면 (가장 관련성 높은 구절을 인용한 추출형 답변): ",
        "문서에 따르면 (추출형 답변): ",
        "지식 베이스에서 관련 내용을 찾지 못했습니다 (추출 모드: 문서를 인용만 합니다).",
    ),
    "ru": Phrases(
        "Из документации (экстрактивный ответ с цитатами наиболее подходящих фрагментов): ",
        "Из документации (экстрактивный ответ): ",
        "В базе знаний ничего об этом не нашлось "
        "(экстрактивный режим: я только цитирую документы).",
    ),
}

MIN_VOTES = 2
SAMPLE = 500  # characters read of a text (a long question's start says its language as well)

# Function words by language: a word in several lists votes for each of them. (Not Dutch "wie",
# who: German's "wie", how, is far more frequent in questions, and a tie is no answer.)
_WORDS = {
    "en": "the a an is are was were be been how what which who where when why do does did can "
    "could should would will i my me you your we our to of in on for with from by at and or "
    "not it its this that these there have has if about per",
    "de": "der die das den dem des ein eine einen einem einer ist sind war wie was wo wann "
    "warum welche welcher welches wer ich mein meine man kann können muss nicht kein keine "
    "und oder mit für von zu zum zur auf im in bei aus es er wird werden gibt sie wir ihr "
    "auch noch nach über",
    "fr": "le la les l un une des du de d est sont comment quoi que qu qui quel quelle quels "
    "quelles où quand pourquoi je j me puis peux peut mon ma mes ne n pas et ou avec pour dans "
    "sur au aux ce cette ces il elle on nous vous se y en a",
    "es": "el la los las un una unos unas de del al es son está están cómo como qué que "
    "cuál cuáles dónde cuándo por para con sin y o no mi mis se puedo puede hay en lo le "
    "me su sus a",
    "pt": "o a os as um uma de do da dos das no na nos nas em é são está como que qual "
    "quais onde quando por para com sem e ou não meu minha se posso pode há ao isso isto "
    "esse essa",
    "it": "il lo la i gli le un una uno di del della dei delle è sono come cosa che quale "
    "quali dove quando perché per con e o non mio mia si posso può ci nel nella al alla "
    "questo questa a in",
    "nl": "de het een van is zijn hoe wat welke waar wanneer waarom ik mijn je jij u "
    "kan kun kunt niet geen en of met voor op te in dat die dit deze er naar om bij ook "
    "wordt worden",
}
_VOTES: dict[str, tuple[str, ...]] = {}
for _lang, _list in _WORDS.items():
    for _word in _list.split():
        _VOTES[_word] = (*_VOTES.get(_word, ()), _lang)

# Letters that only one or two of these languages use: a language gets one vote for any of
# its letters (so "ä" and "ö" of a Swedish question are one vote for German, not two); "_"
# stands for the other Latin-script languages (Turkish, Polish, Czech, Nordic, Vietnamese...),
# which have no phrases here: its letters hold their winner back, and it never wins.
_LETTERS = {
    "ß": ("de",), "ä": ("de",), "ö": ("de",), "ü": ("de",),
    "ñ": ("es",), "¿": ("es",), "¡": ("es",),
    "ã": ("pt",), "õ": ("pt",), "ç": ("fr", "pt"), "ê": ("fr", "pt"), "â": ("fr", "pt"),
    "œ": ("fr",), "î": ("fr",), "û": ("fr",), "ë": ("fr", "nl"), "ï": ("fr", "nl"),
    "è": ("fr", "it"), "ù": ("fr", "it"), "ì": ("it",), "ò": ("it",),
    **dict.fromkeys("ışğłąęśźżćńőűåøæřěůčšžďťňțșăđơưāēīūėįų", ("_",)),
}  # fmt: skip
_LETTER = re.compile("[" + "".join(_LETTERS) + "\u1ea0-\u1ef9]")  # and Vietnamese
_WORD = re.compile(r"[^\W\d_]+")
_ANY_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")

_ARABIC = re.compile(
    "[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]"
)
_NOT_ARABIC = re.compile("[\u067e\u0686\u0698\u06af\u06a9\u06cc\u0679\u0688\u0691\u06ba\u06d2]")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_NOT_RUSSIAN = re.compile(
    "[\u0402-\u0409\u040a-\u040c\u040e\u040f\u0452-\u045c\u045e\u045f\u0490\u0491]"
)
_HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_KANA_RANGES = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_CJK = re.compile(
    f"[\u3005\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df{_KANA_RANGES}]"
)
_KANA = re.compile(f"[{_KANA_RANGES}]")


def detect(text: str) -> str | None:
    """The language of ``text``: one of ``PHRASES``', "" for another, None when unclear (see
    the module's docstring)."""
    text = text[:SAMPLE]
    if not text.isascii():
        script = _script(text)
        if script is not None:
            return script
    return _vote(text)


def _script(text: str) -> str | None:
    """The language of the non-Latin script that outweighs the Latin letters ("" for one
    without phrases here), or None when the Latin letters weigh as much or more."""
    latin = len(_LATIN.findall(text))
    counts = [
        len(_ARABIC.findall(text)),
        len(_CYRILLIC.findall(text)),
        len(_HANGUL.findall(text)),
        len(_CJK.findall(text)),
    ]
    other = len(_ANY_LETTER.findall(text)) - latin - sum(counts)
    weights = (
        (counts[0], "ar"),
        (counts[1], "ru"),
        (2 * counts[2], "ko"),
        (3 * counts[3], "zh"),
        (other, ""),
    )
    weight, lang = max(weights)
    if weight <= latin:
        return None
    if lang == "ar" and _NOT_ARABIC.search(text):
        return ""
    if lang == "ru" and _NOT_RUSSIAN.search(text):
        return ""
    if lang == "zh" and _KANA.search(text):
        return "ja"
    return lang


def _vote(text: str) -> str | None:
    text = text.lower()
    counts: dict[str, int] = {}
    for word in _WORD.findall(text):
        for lang in _VOTES.get(word, ()):
            counts[lang] = counts.get(lang, 0) + 1
    if not text.isascii():
        marked = {lang for c in _LETTER.findall(text) for lang in _LETTERS.get(c, ("_",))}
        for lang in marked:
            counts[lang] = counts.get(lang, 0) + 1
    if not counts:
        return None
    ranked = sorted(counts.values(), reverse=True)
    best = ranked[0]
    if best < MIN_VOTES or (len(ranked) > 1 and ranked[1] == best):
        return None
    winner = next(lang for lang, n in counts.items() if n == best)
    return "" if winner == "_" else winner


def function_words(lang: str | None) -> frozenset[str]:
    """The short function words of ``lang`` ("wie", "ich", "die" for German) known to the vote
    (``_WORDS``); none for English (the extractive matcher has its own stop words) or a
    language without a list."""
    return _FUNCTION_WORDS.get(lang or "", frozenset())


_FUNCTION_WORDS = {lang: frozenset(words.split()) for lang, words in _WORDS.items() if lang != "en"}


def phrases(question: str, quoted: str = "") -> Phrases:
    """The phrases in the question's language, else the quoted text's, else English."""
    lang = detect(question)
    if lang is None and quoted:
        lang = detect(quoted)
    return PHRASES.get(lang or "en", PHRASES["en"])
