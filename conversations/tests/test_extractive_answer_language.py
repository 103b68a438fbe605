"""The offline ``extractive`` provider's own words in the end user's language
(``conversations/answer_language.py``).

Before: every answer opened with "From the documentation (an extractive answer quoting the best
passages): " and every empty search said "I could not find anything about that in the
knowledge base (...)", in English, before German, Arabic or Chinese quotes alike."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conversations.answer_language import PHRASES, detect, phrases
from conversations.extractive import extractive_answer
from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat

EN = PHRASES["en"]


def _src(text: str) -> SimpleNamespace:
    return SimpleNamespace(text=text, document_title=text.split(" > ", 1)[0])


# (language, question, a chunk in that language, the sentence that answers the question)
CASES = [
    ("de", "Wie kann ich die Ausgabe zwischenspeichern?",
     "Handbuch > Cache\nMit dem Cache-Dekorator kann man die Ausgabe zwischenspeichern.",
     "Mit dem Cache-Dekorator kann man die Ausgabe zwischenspeichern."),
    ("fr", "Comment est-ce que je limite les requêtes ?",
     "Guide > Limites\nLe limiteur de débit limite les requêtes de chaque client.",
     "Le limiteur de débit limite les requêtes de chaque client."),
    ("es", "¿Cómo puedo limitar las peticiones?",
     "Guía > Límites\nEl limitador permite limitar las peticiones por minuto.",
     "El limitador permite limitar las peticiones por minuto."),
    ("pt", "Como posso limitar as requisições?",
     "Guia > Limites\nO limitador serve para limitar as requisições por minuto.",
     "O limitador serve para limitar as requisições por minuto."),
    ("it", "Come posso limitare le richieste?",
     "Guida > Limiti\nIl limitatore serve a limitare le richieste al minuto.",
     "Il limitatore serve a limitare le richieste al minuto."),
    ("nl", "Hoe kan ik het aantal verzoeken beperken?",
     "Handleiding > Limieten\nDe limiter kan het aantal verzoeken per minuut beperken.",
     "De limiter kan het aantal verzoeken per minuut beperken."),
    ("ar", "متى تتغير الأسعار؟",
     "الدليل > الفواتير\nتتغير الأسعار في بداية كل شهر حسب الخطة المختارة.",
     "تتغير الأسعار في بداية كل شهر حسب الخطة المختارة."),
    ("zh", "什么是序列化器？",
     "指南 > 概述\n序列化器把模型实例转换为 JSON，也会校验输入的数据。",
     "序列化器把模型实例转换为 JSON，也会校验输入的数据。"),
    ("ja", "シリアライザーとは何ですか？",
     "ガイド > 概要\nシリアライザーはモデルのインスタンスをJSONに変換します。",
     "シリアライザーはモデルのインスタンスをJSONに変換します。"),
    ("ko", "직렬 변환기는 무엇을 하나요?",
     "안내서 > 개요\n직렬 변환기는 모델 인스턴스를 JSON으로 바꿉니다.",
     "직렬 변환기는 모델 인스턴스를 JSON으로 바꿉니다."),
    ("ru", "Что делает сериализатор?",
     "Руководство > Обзор\nСериализатор превращает экземпляры моделей в JSON.",
     "Сериализатор превращает экземпляры моделей в JSON."),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "question", "chunk", "sentence"), CASES)
def test_each_language_answers_and_refuses_with_its_own_phrases(lang, question, chunk, sentence):
    assert detect(question) == lang
    answer = extractive_answer(question, [_src(chunk)])
    assert answer == f"{PHRASES[lang].answer}{sentence} [1]"  # the quote itself unchanged
    assert extractive_answer(question, []) == PHRASES[lang].nothing


def test_every_language_has_three_distinct_phrases_that_say_extractive():
    hints = {"en": "extractive", "de": "extraktiv", "fr": "extracti", "es": "extractiv",
             "pt": "extrativ", "it": "estrattiv", "nl": "extractie", "ar": "استخراجي",
             "zh": "抽取", "ja": "抽出", "ko": "추출", "ru": "экстрактивн"}  # fmt: skip
    assert set(PHRASES) == set(hints)
    for lang, p in PHRASES.items():
        assert len({p.answer, p.excerpt, p.nothing}) == 3, lang
        assert all(hints[lang] in text.lower() for text in p), lang
        assert p.answer.endswith((": ", "："))  # the quote follows (": " opens it as before)


def test_english_phrases_are_the_original_sentences():
    assert EN.answer == "From the documentation (an extractive answer quoting the best passages): "
    assert EN.excerpt == "From the documentation (extractive answer): "
    assert EN.nothing == (
        "I could not find anything about that in the knowledge base "
        "(extractive mode: I only quote the documents)."
    )


ENGLISH_DOC = "Guide > Views\nThe APIView class handles requests and returns responses."
GERMAN_DOC = "Handbuch > Ansichten\nDie Klasse APIView nimmt Anfragen an und gibt Antworten zurück."


@pytest.mark.parametrize(
    "question",
    ["APIView?", "Warum?", "Größe?", "Wie funktioniert the throttling?", "OK", "", "???", "3.14"],
)
def test_a_short_or_ambiguous_question_stays_english(question):
    assert detect(question) is None
    assert extractive_answer(question, []) == EN.nothing
    answer = extractive_answer(question, [_src(ENGLISH_DOC)])
    if question == "APIView?":
        assert answer.startswith(EN.answer)
    else:  # none of its words is in the passage: nothing quoted (test_extractive_unrelated.py)
        assert answer == EN.nothing


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How do I use APIView?", "en"),
        ("Is it a bug?", "en"),
        ("How do I limit anonymous clients per day?", "en"),  # "per" is Italian too
        ("Was kostet das?", "de"),  # "was" is English too
        ("Größe der Datei?", "de"),  # a letter helps a short question
        ("Die Datei ist zu groß", "de"),
        ("Qu'est-ce qu'un sérialiseur ?", "fr"),
        ("O que é um serializador?", "pt"),
        ("Qué es un serializador", "es"),
        ("Wat is een serializer?", "nl"),
        ("Cos'è un serializzatore?", "it"),
        ("How do I configure 序列化器?", "en"),  # the Latin letters outweigh four Han
        ("序列化器 in Django 怎么用?", "zh"),
        ("APIViewの使い方は？", "ja"),  # Kana: Japanese, not Chinese
        ("Wie konfiguriere ich 序列化器?", "de"),
    ],
)
def test_mixed_questions_go_by_their_main_script_and_words(question, expected):
    assert detect(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "قیمت‌ها کی تغییر می‌کنند؟",  # Persian (پ گ ک ی): not Arabic
        "Що таке серіалізатор?",  # Ukrainian (і): not Russian
        "מה זה API?",  # Hebrew
        "ราคาเปลี่ยนเมื่อไหร่",  # Thai
    ],
)
def test_a_language_without_phrases_reads_english_whatever_the_quotes(question):
    assert detect(question) == ""
    assert phrases(question, "Die Klasse nimmt die Anfragen an und gibt sie zurück.") == EN
    assert extractive_answer(question, []) == EN.nothing


def test_other_latin_languages_are_not_taken_for_german():
    for question in (
        "Hur ändrar jag lösenordet?",
        "Dosyayı nasıl yüklerim?",
        "Jak mogę to usunąć?",
    ):
        assert detect(question) in (None, ""), question


def test_an_unclear_question_takes_the_language_of_the_quotes():
    assert extractive_answer("APIView?", [_src(GERMAN_DOC)]) == (
        f"{PHRASES['de'].answer}Die Klasse APIView nimmt Anfragen an und gibt Antworten zurück. [1]"
    )
    assert extractive_answer("APIView?", [_src(ENGLISH_DOC)]).startswith(EN.answer)


def test_a_clear_question_decides_over_the_quotes():
    english = extractive_answer("How does the APIView class work?", [_src(GERMAN_DOC)])
    assert english.startswith(EN.answer)
    german = extractive_answer("Wie funktioniert die Klasse APIView?", [_src(ENGLISH_DOC)])
    assert german == (
        f"{PHRASES['de'].answer}The APIView class handles requests and returns responses. [1]"
    )


def test_a_chunk_without_prose_opens_with_the_excerpt_phrase_in_the_question_language():
    code_only = "Handbuch > Installation\n`make run`"  # too short to be a sentence
    answer = extractive_answer("Wie installiere ich das Paket?", [_src(code_only)])
    assert answer == f"{PHRASES['de'].excerpt}`make run` [1]"
    assert extractive_answer("How do I install it?", [_src(code_only)]).startswith(EN.excerpt)


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::Warning")
def test_an_extractive_chat_in_german_answers_and_refuses_in_german(
    client, tenant, make_key, settings
):
    settings.CHAT_PROVIDER = "extractive"
    docs = {
        "Zwischenspeicher": ["Überblick\nMit dem Cache-Dekorator speichert man die Ausgabe."],
        "Seiten": ["Überblick\nDie Seitennummerierung begrenzt die Anzahl der Objekte."],
    }
    build_kb(tenant, slug="de", docs=docs)
    build_kb(tenant, slug="leer", docs={"Leer": []})  # a document without chunks: no sources
    key = make_key(tenant)
    status, events = chat(
        client, key, bot="de", message="Wie speichert man die Ausgabe?", stream=True
    )
    assert status == 200, events
    text = "".join(d["text"] for e, d in events if e == "delta")
    assert text.startswith(f"{PHRASES['de'].answer}Mit dem Cache-Dekorator speichert man")
    assert events[-1][0] == "end"
    status, body = chat(client, key, bot="leer", message="Wie speichert man die Ausgabe?")
    assert status == 200, body
    assert body["answer"] == PHRASES["de"].nothing
    status, body = chat(client, key, bot="leer", message="How do I cache the output?")
    assert body["answer"] == EN.nothing


def test_a_questions_function_words_do_not_match_in_its_language():
    """ "Wie füge ich Dokumente hinzu?" shares "wie" with an English sentence quoting it, and
    "die"/"ich" with any German one: a language's function words are not matched (English
    questions keep the matcher's own stop words, unchanged)."""
    english = SimpleNamespace(
        text='Language > Words\nIts short words ("wie", "ich", "est") tell the language.',
        document_title="Language",
    )
    question = "Wie füge ich Dokumente hinzu?"
    assert extractive_answer(question, [english]) == PHRASES["de"].nothing
    german = SimpleNamespace(
        text="Handbuch > Start\nDie Anmeldung ist für alle Nutzer offen. "
        "Dokumente fügt man im Bereich Datensätze hinzu.",
        document_title="Handbuch",
    )
    answer = extractive_answer(question, [german])
    assert answer.startswith(PHRASES["de"].answer + "Dokumente fügt man")
    assert "Anmeldung" not in answer
