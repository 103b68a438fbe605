"""Keyword and hybrid retrieval of Chinese and Japanese text (datasets/text_search.py):
PostgreSQL's parser makes a whole Han/Kana run one token, so "什么是序列化器？" found only a chunk
holding that exact run. Chunks' vectors and the question's lexemes now also hold the runs'
character bigrams (the same function makes both); English chunks and questions get exactly the
lexemes they had; the tenant filter is untouched."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from conversations import unspaced
from conversations.tests.conftest import embed_cached
from datasets import text_search
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db

ZH_SERIALIZER = "序列化器把模型实例转换为JSON数据，也负责校验输入。"
ZH_PAGINATION = "分页把很长的结果列表切成多个页面，每页返回固定条数。"
JA_THROTTLE = "スロットリングは匿名クライアントのリクエスト数を一日ごとに制限します。"
JA_ROUTER = "ルーターはビューセットからURLの設定を自動で作ります。"
ENGLISH = "Guide > Throttling limits anonymous clients per day."


def _chunk(dataset, text):
    doc = DocumentFactory(dataset=dataset)
    return ChunkFactory(document=doc, index=0, text=text, embedding=list(embed_cached(text)))


def _retrieve(api, datasets, query, mode):
    res = api.post(
        "/v1/retrieve",
        {"datasets": [str(d.id) for d in datasets], "query": query, "mode": mode},
        format="json",
    )
    assert res.status_code == 200, res.json()
    return res.json()["data"]


def _vector(config, text):
    with connection.cursor() as cur:
        cur.execute(f"SELECT {text_search.FUNCTION}(%s, %s)::text", [config, text])
        return cur.fetchone()[0]


def _lexemes(sql, params):
    with connection.cursor() as cur:
        cur.execute(f"SELECT array(SELECT lexeme FROM unnest({sql}) ORDER BY 1)", params)
        return cur.fetchone()[0]


@pytest.fixture
def cjk(tenant):
    dataset = DatasetFactory(tenant=tenant, language="simple")
    texts = [ZH_SERIALIZER, ZH_PAGINATION, JA_THROTTLE, JA_ROUTER]
    return dataset, {text: _chunk(dataset, text) for text in texts}


# Each question shares words with its chunk, never a whole run ("什么是序列化器" is in no chunk).
QUESTIONS = [
    ("什么是序列化器？", ZH_SERIALIZER),
    ("分页每页返回多少条？", ZH_PAGINATION),
    ("匿名ユーザーのリクエストを制限するには？", JA_THROTTLE),
    ("ルーターとは何ですか", JA_ROUTER),
]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
@pytest.mark.parametrize(("question", "answer"), QUESTIONS)
def test_a_chinese_or_japanese_question_finds_its_chunk(api, cjk, mode, question, answer):
    dataset, chunks = cjk
    found = _retrieve(api, [dataset], question, mode)
    assert found, question
    assert found[0]["chunk_id"] == str(chunks[answer].id)
    if mode == "keyword":
        assert 0 < found[0]["score"] <= 1  # the share of the question's lexemes it holds


def test_any_configuration_gets_the_bigrams(api, tenant):
    """The default english dataset too (its parser sees the same unsegmented runs)."""
    dataset = DatasetFactory(tenant=tenant)
    chunk = _chunk(dataset, ZH_SERIALIZER)
    _chunk(dataset, ENGLISH)
    found = _retrieve(api, [dataset], "什么是序列化器？", "keyword")
    assert [r["chunk_id"] for r in found] == [str(chunk.id)]


def test_the_vector_holds_each_runs_bigrams_without_question_words():
    vector = _vector("simple", "DRF的序列化器？什么是 X 字")
    lexemes = set(re.findall(r"'([^']+)'", vector))
    # The run set apart from the Latin word glued to it, whole, then its bigrams; a
    # one-character run is its own term; 什么 is a question word (unspaced._STOP_BIGRAMS).
    assert {"drf", "的序列化器", "的序", "序列", "列化", "化器", "什么是", "么是", "字"} <= lexemes
    assert "什么" not in lexemes
    assert "x" in lexemes


def test_the_sql_bigrams_are_the_extractive_answerers():
    """Same character ranges and question words as conversations/unspaced.py."""
    assert text_search.STOP_BIGRAMS.split() == unspaced._STOP_BIGRAM_LIST.split()
    samples = [
        ZH_SERIALIZER, JA_THROTTLE, "々 〆 ｼﾘｱﾗｲｻﾞｰ 𠀀𠀁 ー ㇰㇱ 豈更", "Thai ภาษาไทย, 한국어 and é",
        "\u3004\u3005\u303f\u3040\u30ff\u3100\u31ef\u31f0\u31ff\u3200 \u33ff\u3400\u4dbf\u4dc0",
        "\u4dff\u4e00\u9fff\ua000 \uf8ff\uf900\ufaff\ufb00 \uff65\uff66\uff9f\uffa0",
        "\U0001ffff\U00020000\U0002a6df\U0002a6e0",
    ]  # fmt: skip
    for text in samples:
        with connection.cursor() as cur:
            cur.execute(f"SELECT {text_search.has_unspaced_sql('%s')}", [text] * 3)
            has = cur.fetchone()[0]
        runs = [r for r in unspaced.RUN.findall(text) if not "\u0e01" <= r[0] <= "\u0e4e"]
        assert has == bool(runs), text
        grams = set().union(*(unspaced.bigrams(r) for r in runs)) if runs else set()
        spaced = unspaced.RUN.sub(lambda m: f" {m.group()} ", text) if runs else text
        # The runs set apart, then their bigrams (both through the parser, which may drop a
        # character it deems no letter, the same in questions and chunks).
        expected = _lexemes("to_tsvector('simple', %s)", [spaced]) + _lexemes(
            "to_tsvector('simple', %s)", [" ".join(sorted(grams))]
        )
        got = _lexemes(f"{text_search.FUNCTION}('simple', %s)", [text])
        assert set(got) == set(expected), text


def test_english_text_gets_exactly_the_lexemes_it_had(api, tenant):
    texts = [ENGLISH, "Serializers — café, naïve “quotes” and 2× speed.", "Plain ASCII only."]
    for text in texts:
        for config in ("english", "simple", "german"):
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT {text_search.FUNCTION}(%s, %s) = to_tsvector(%s::regconfig, %s)",
                    [config, text, config, text],
                )
                assert cur.fetchone()[0] is True, (config, text)
    dataset = DatasetFactory(tenant=tenant)
    chunk = _chunk(dataset, ENGLISH)
    found = _retrieve(api, [dataset], "How do I limit anonymous clients?", "keyword")
    assert [r["chunk_id"] for r in found] == [str(chunk.id)]
    # limit, anonym, client: every lexeme of the question, as before
    assert found[0]["score"] == 1.0


def test_the_other_tenants_chunk_never_appears(api, tenant, other_tenant, cjk):
    dataset, _chunks = cjk
    theirs = DatasetFactory(tenant=other_tenant, language="simple")
    their_chunk = _chunk(theirs, ZH_SERIALIZER)
    for mode in ("keyword", "hybrid"):
        for question, _answer in QUESTIONS:
            found = _retrieve(api, [dataset], question, mode)
            assert str(their_chunk.id) not in {r["chunk_id"] for r in found}
        res = api.post(
            "/v1/retrieve",
            {"datasets": [str(theirs.id)], "query": "什么是序列化器？", "mode": mode},
            format="json",
        )
        assert res.status_code == 404
