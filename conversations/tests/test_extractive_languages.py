"""The offline ``extractive`` provider and the follow-up rule beyond English prose.

Before: words were ``[a-z0-9_]+``, so an Arabic question had no words at all (every sentence
scored 0 and the answer quoted the first source's opening, whatever was asked) and "Fläche"
was the two words "fl" and "che"; a sentence ended only before an upper-case ASCII letter, so
Arabic chunks were one "sentence" too long to quote; a full Arabic question after an earlier
turn counted as a follow-up (no subject words) and was retrieved glued to the old question.
Markdown table rows were quoted raw ("| | `manage.py reembed` | re-embed ... |")."""

from __future__ import annotations

from types import SimpleNamespace

from conversations.extractive import _sentences, _terms, extractive_answer
from conversations.followup import retrieval_query


def _src(text: str) -> SimpleNamespace:
    return SimpleNamespace(text=text, document_title=text.split(" > ", 1)[0])


def _first_quote(answer: str) -> str:
    return answer.split(": ", 1)[1].rsplit(" [", 1)[0].split(" [")[0]


ARABIC = (
    "الدليل > الفواتير\n"
    "يمكن تنزيل الفاتورة من لوحة التحكم في أي وقت. "
    "تتغير الأسعار في بداية كل شهر حسب الخطة المختارة. "
    "لإلغاء الاشتراك اتصل بفريق الدعم عبر البريد الإلكتروني."
)


def test_arabic_words_are_words():
    assert {"الأسعار", "الخطة"} <= _terms("تتغير الأسعار حسب الخطة")
    assert "fläche" in _terms("Die Fläche ist groß")  # not "fl" and "che"


def test_arabic_prose_splits_into_sentences():
    assert _sentences(ARABIC) == [
        "يمكن تنزيل الفاتورة من لوحة التحكم في أي وقت.",
        "تتغير الأسعار في بداية كل شهر حسب الخطة المختارة.",
        "لإلغاء الاشتراك اتصل بفريق الدعم عبر البريد الإلكتروني.",
    ]


def test_an_arabic_question_quotes_the_sentence_that_answers_it():
    answer = extractive_answer("متى تتغير الأسعار؟", [_src(ARABIC)])
    assert _first_quote(answer) == "تتغير الأسعار في بداية كل شهر حسب الخطة المختارة."


def test_a_sentence_may_start_with_an_accented_capital_and_not_after_an_abbreviation():
    text = "Handbuch > Upload\nDie Datei ist fertig. Über die API lädt man sie hoch, z.B. mit curl."
    assert _sentences(text) == [
        "Die Datei ist fertig.",
        "Über die API lädt man sie hoch, z.B. mit curl.",
    ]
    english = "Guide > Setup\nSet a limit, e.g. the rate per user. Then restart the worker."
    assert _sentences(english) == [
        "Set a limit, e.g. the rate per user.",
        "Then restart the worker.",
    ]


def test_a_table_row_is_a_sentence_of_its_cells_and_the_header_is_left_out():
    text = (
        "Guide > Commands\n"
        "| Command | What it does |\n"
        "| --- | --- |\n"
        "| `manage.py reembed` | re-embed after an embedding model change |\n"
        "| `manage.py reingest` | re-ingest every document of a dataset |\n"
        "The worker must run for both."
    )
    assert _sentences(text) == [
        "`manage.py reembed` - re-embed after an embedding model change.",
        "`manage.py reingest` - re-ingest every document of a dataset.",
        "The worker must run for both.",
    ]
    answer = extractive_answer("How do I re-embed after a model change?", [_src(text)])
    assert "|" not in answer
    assert _first_quote(answer).startswith("`manage.py reembed` - re-embed")


def _turns(*questions: str) -> list[dict[str, str]]:
    out = []
    for question in questions:
        out += [{"role": "user", "content": question}, {"role": "assistant", "content": "..."}]
    return out


def test_a_full_arabic_question_after_another_is_retrieved_alone():
    history = _turns("كيف أنزل الفاتورة من لوحة التحكم؟")
    question = "كيف ألغي الاشتراك عبر البريد الإلكتروني؟"
    assert retrieval_query(question, history) == question


def test_a_one_word_arabic_follow_up_is_retrieved_with_the_question_before():
    history = _turns("كيف أنزل الفاتورة من لوحة التحكم؟")
    assert retrieval_query("والأسعار؟", history) == "كيف أنزل الفاتورة من لوحة التحكم؟ والأسعار؟"
