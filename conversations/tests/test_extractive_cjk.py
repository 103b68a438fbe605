"""The offline ``extractive`` provider and the follow-up rule on Chinese, Japanese and Thai, written
without spaces between words (``conversations/unspaced.py``).

Before: ``\\w+`` read a whole CJK sentence as one word, so "什么是序列化器？" shared no term with
the sentence about 序列化器 and the answer quoted whatever came first; 。！？ ended a sentence
only before a space, which CJK text does not have, so a paragraph was one "sentence" (and one
over 400 characters was not quoted at all); the follow-up rule counted "那序列化器呢？" as one
word either way, and a whole Chinese question too (a full question was glued to the last one)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from conversations.extractive import _sentences, _terms, extractive_answer
from conversations.followup import retrieval_query
from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat


def _src(text: str) -> SimpleNamespace:
    return SimpleNamespace(text=text, document_title=text.split(" > ", 1)[0])


def _quotes(answer: str) -> str:
    """The answer after its opening phrase (``answer_language``: Chinese and Japanese end
    theirs with "：", with no space after it)."""
    return re.split("[:：] ?", answer, maxsplit=1)[1]


def _first_quote(answer: str) -> str:
    return _quotes(answer).split(" [")[0]


CHINESE = (
    "序列化器指南 > 概述\n"
    "视图负责处理请求并返回响应。序列化器把模型实例转换为 JSON，也会校验输入的数据。"
    "路由器会根据视图集自动生成 URL 配置！分页有什么用处呢？它可以限制每页返回的对象数量。"
)
JAPANESE = (
    "ガイド > 概要\n"
    "ビューはリクエストを処理してレスポンスを返します。"
    "シリアライザーはモデルのインスタンスをJSONに変換し、入力を検証します。"
    "「ページネーションを使うと、一度に返す件数を制限できます。」"
    "ルーターはURLの設定を自動で作ります．"
)
THAI = (
    "คู่มือ > การเรียกเก็บเงิน\n"
    "ผู้ใช้สามารถดาวน์โหลดใบแจ้งหนี้ได้จากหน้าแดชบอร์ดทุกเวลา "
    "ราคาจะเปลี่ยนแปลงในต้นเดือนตามแผนที่เลือก "
    "หากต้องการยกเลิกการสมัครสมาชิกโปรดติดต่อทีมสนับสนุนทางอีเมล"
)


def test_chinese_sentences_end_at_their_marks_without_a_space():
    assert _sentences(CHINESE) == [
        "视图负责处理请求并返回响应。",
        "序列化器把模型实例转换为 JSON，也会校验输入的数据。",
        "路由器会根据视图集自动生成 URL 配置！",
        "分页有什么用处呢？",  # 9 characters: a sentence (Han counts triple)
        "它可以限制每页返回的对象数量。",
    ]


def test_japanese_sentences_keep_their_closing_brackets_and_full_width_stop():
    assert _sentences(JAPANESE) == [
        "ビューはリクエストを処理してレスポンスを返します。",
        "シリアライザーはモデルのインスタンスをJSONに変換し、入力を検証します。",
        "「ページネーションを使うと、一度に返す件数を制限できます。」",
        "ルーターはURLの設定を自動で作ります．",
    ]
    assert _sentences("文書 > 版\nバージョン１．５では設定が変わりました。") == [
        "バージョン１．５では設定が変わりました。"  # ． between digits is a decimal point
    ]


def test_a_wrapped_cjk_paragraph_is_joined_without_a_space_and_ascii_marks_end_too():
    text = (
        "指南 > 安装\n先运行迁移命令创建数据\n库表结构。然后启动网页服务?之后就可以上传文档了。\n"
    )
    text += "每个文档都会被切分成片段。\n片段会被嵌入并建立索引。"
    assert _sentences(text) == [
        "先运行迁移命令创建数据库表结构。",
        "然后启动网页服务?",
        "之后就可以上传文档了。",
        "每个文档都会被切分成片段。",  # a line break after 。 ends a sentence too
        "片段会被嵌入并建立索引。",
    ]


def test_unspaced_runs_match_by_character_bigrams_and_other_words_as_before():
    assert _terms("什么是序列化器？") == {"么是", "是序", "序列", "列化", "化器"}  # no 什么
    assert _terms("Django的序列化器") == {"django", "的序", "序列", "列化", "化器"}
    assert _terms("在 views 中") == {"在", "view", "中"}  # a one-character run is a term
    assert _terms("シリアライザー") == {"シリ", "リア", "アラ", "ライ", "イザ", "ザー"}
    english = "How do I limit anonymous clients per day with MAX_UPLOAD_BYTES?"
    expected = {"limit", "anonymo", "client", "per", "day", "max_upl", "max", "upload", "byte"}
    assert _terms(english) == expected
    assert _terms("한국어 문서 검색") == {"한국어", "문서", "검색"}  # Korean: spaced words


def test_a_chinese_question_quotes_the_sentence_about_its_subject_unchanged():
    answer = extractive_answer("什么是序列化器？", [_src(CHINESE)])
    assert _first_quote(answer) == "序列化器把模型实例转换为 JSON，也会校验输入的数据。"
    assert "序列化器把模型实例转换为 JSON，也会校验输入的数据。 [1]" in answer
    answer = extractive_answer(
        "路由器怎么生成 URL？", [_src("其他 > 说明\n无关的句子在这里出现。"), _src(CHINESE)]
    )
    assert _first_quote(answer) == "路由器会根据视图集自动生成 URL 配置！"
    assert "自动生成 URL 配置！ [2]" in answer


def test_a_japanese_question_quotes_the_sentence_about_its_subject():
    answer = extractive_answer("シリアライザーとは何ですか？", [_src(JAPANESE)])
    assert _first_quote(answer) == (
        "シリアライザーはモデルのインスタンスをJSONに変換し、入力を検証します。"
    )
    answer = extractive_answer("件数を制限するには？", [_src(JAPANESE)])
    assert _first_quote(answer) == "「ページネーションを使うと、一度に返す件数を制限できます。」"


def test_thai_splits_at_spaces_between_clauses_and_matches_by_bigrams():
    assert _sentences(THAI) == [
        "ผู้ใช้สามารถดาวน์โหลดใบแจ้งหนี้ได้จากหน้าแดชบอร์ดทุกเวลา",
        "ราคาจะเปลี่ยนแปลงในต้นเดือนตามแผนที่เลือก",
        "หากต้องการยกเลิกการสมัครสมาชิกโปรดติดต่อทีมสนับสนุนทางอีเมล",
    ]
    answer = extractive_answer("ราคาเปลี่ยนเมื่อไหร่", [_src(THAI)])
    assert _first_quote(answer) == "ราคาจะเปลี่ยนแปลงในต้นเดือนตามแผนที่เลือก"


def test_a_cjk_table_row_ends_with_a_cjk_full_stop():
    text = "指南 > 命令\n| 命令 | 作用 |\n| --- | --- |\n| `reembed` | 更换嵌入模型后重新嵌入 |\n"
    assert _sentences(text) == ["`reembed` - 更换嵌入模型后重新嵌入。"]


def test_english_with_a_cjk_word_splits_as_english_does():
    text = "Guide > Names\nThe 序列化器 is a serializer, e.g. the one for users. "
    text += "Then it saves them all."
    assert _sentences(text) == [
        "The 序列化器 is a serializer, e.g. the one for users.",
        "Then it saves them all.",
    ]


def _turns(*questions: str) -> list[dict[str, str]]:
    out = []
    for question in questions:
        out += [{"role": "user", "content": question}, {"role": "assistant", "content": "..."}]
    return out


@pytest.mark.parametrize(
    ("before", "follow_up"),
    [
        ("如何配置序列化器的字段？", "那它呢？"),
        ("如何配置序列化器的字段？", "那分页呢？"),
        ("视图如何处理请求？", "那序列化器呢？"),
        ("シリアライザーの設定方法を教えてください。", "それはどうですか？"),
        ("シリアライザーの設定方法を教えてください。", "ページネーションは？"),
    ],
)
def test_a_short_cjk_follow_up_is_retrieved_with_the_question_before(before, follow_up):
    assert retrieval_query(follow_up, _turns(before)) == f"{before} {follow_up}"


@pytest.mark.parametrize(
    ("before", "question"),
    [
        ("如何配置序列化器的字段？", "路由器怎样根据视图集生成地址？"),
        ("シリアライザーの設定方法を教えてください。", "ルーターはURLの設定をどう作りますか？"),
    ],
)
def test_a_full_cjk_question_after_another_is_retrieved_alone(before, question):
    assert retrieval_query(question, _turns(before)) == question


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::Warning")
def test_an_extractive_chat_over_chinese_documents_quotes_and_cites_the_right_sentence(
    client, tenant, make_key, settings
):
    settings.CHAT_PROVIDER = "extractive"
    docs = {
        "序列化器": ["概述\n视图负责处理请求并返回响应。序列化器把模型实例转换为 JSON。"],
        "分页": ["概述\n分页可以限制每页返回的对象数量。游标分页提供稳定的排序。"],
    }
    build_kb(tenant, slug="zh", docs=docs)
    status, body = chat(client, make_key(tenant), bot="zh", message="什么是序列化器？")
    assert status == 200, body
    assert body["answer"].startswith("根据文档（抽取式回答，引用最相关的段落）：序列化器")
    quote, rest = _quotes(body["answer"]).split(" [", 1)
    assert quote == "序列化器把模型实例转换为 JSON。"
    n = int(rest.split("]", 1)[0])
    assert body["citations"][n - 1]["document_title"] == "序列化器"


def _stream_cjk(max_tokens: int) -> tuple[list[str], str | None]:
    import asyncio

    from conversations.extractive import ExtractiveProvider

    async def run() -> list:
        stream = ExtractiveProvider().stream(
            messages=[{"role": "user", "content": "什么是序列化器？"}], model="extractive",
            temperature=0.0, max_tokens=max_tokens, sources=[_src(CHINESE)],
            question="什么是序列化器？",
        )  # fmt: skip
        return [chunk async for chunk in stream]

    chunks = asyncio.run(run())
    return [c.text for c in chunks[:-1]], chunks[-1].finish_reason


def test_a_chinese_answer_streams_in_pieces_and_max_tokens_cuts_inside_a_sentence():
    """Each Han character is a word of the stream (BERT counts them one by one): a Chinese
    sentence is not one piece, and ``max_tokens`` cuts inside it instead of dropping it."""
    from conversations.extractive import _pieces
    from conversations.prompting import count_tokens

    full = extractive_answer("什么是序列化器？", [_src(CHINESE)])
    words = _pieces(full + " ")
    assert "".join(words) == full + " "
    assert sum(count_tokens(w) for w in words) == count_tokens(full)
    assert {"序", "列", "JSON，"} <= {w.strip() for w in words}
    pieces, finish = _stream_cjk(1000)
    assert "".join(pieces) == full
    assert finish == "stop"
    assert max(len(p) for p in pieces) < 30  # not one sentence per piece
    quote_starts = len(full) - len(_quotes(full))
    cut_at = count_tokens(full[: quote_starts + 4])
    pieces, finish = _stream_cjk(cut_at)
    text = "".join(pieces)
    assert finish == "length"
    assert full.startswith(text)
    assert text.endswith("序列化器")
    assert count_tokens(text) == cut_at
