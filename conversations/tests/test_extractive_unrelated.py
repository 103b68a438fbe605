"""The offline ``extractive`` provider quotes nothing when no passage shares a content word with
the question (``extractive.matched``).

Before: a bot's ``score_threshold`` of 0 let retrieval return its top chunks whatever was
asked, and the provider quoted the best of them: "How do I reset my password?" over the demo
docs got a confident answer quoting unrelated passages, with citations."""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace

import pytest

from conversations.answer_language import PHRASES
from conversations.extractive import ExtractiveProvider, extractive_answer, followed_query
from conversations.models import Message
from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat

EN = PHRASES["en"]
CITED = re.compile(r"\[\d+\]")
PAGINATION = SimpleNamespace(
    text="API guide > Pagination\nPagination splits large result sets into pages. "
    "The PAGE_SIZE setting says how many items each page holds.",
    document_title="Pagination",
)
THROTTLING = SimpleNamespace(
    text="API guide > Throttling\nThrottling limits how many requests a client can make.",
    document_title="Throttling",
)
SOURCES = [PAGINATION, THROTTLING]
# A knowledge base whose chunks have prose under their "title > heading" line.
DOCS = {
    "Pagination": ["Overview\nPagination splits large result sets into pages of PAGE_SIZE items."],
    "Throttling": ["Overview\nThrottling limits how many requests a client can make."],
    "Authentication": ["Overview\nClients send their token in the Authorization header."],
}


@pytest.mark.parametrize(
    "question",
    ["How do I reset my password?", "What is the capital of France?", "Tell me a joke.", "???"],
)
def test_a_question_no_passage_shares_a_word_with_finds_nothing(question):
    assert extractive_answer(question, SOURCES) == EN.nothing


def test_the_nothing_found_sentence_is_in_the_questions_language():
    # German over English passages: no word in common, so nothing, said in German.
    answer = extractive_answer("Wie setze ich mein Passwort zurück?", SOURCES)
    assert answer == PHRASES["de"].nothing
    chinese = SimpleNamespace(
        text="指南 > 概述\n序列化器把模型实例转换为 JSON，也会校验输入的数据。",
        document_title="指南",
    )
    assert extractive_answer("明天天气怎么样？", [chinese]) == PHRASES["zh"].nothing
    assert CITED.search(extractive_answer("序列化器是什么？", [chinese]))  # bigrams match


@pytest.mark.parametrize("question", ["pagination?", "Pagination", "page size?", "PAGE_SIZE"])
def test_a_one_word_question_that_matches_still_answers(question):
    answer = extractive_answer(question, SOURCES)
    assert answer.startswith(EN.answer)
    assert "[1]" in answer  # the pagination passage
    assert "[2]" not in answer  # the throttling sentence shares no word: not quoted beside it


def test_a_term_only_the_heading_holds_still_counts():
    """A sentence under a heading that names the question's subject is about it."""
    cache = SimpleNamespace(
        text="API guide > Caching\nThe decorator stores the rendered output for ten minutes.",
        document_title="Caching",
    )
    answer = extractive_answer("How does caching work?", [cache])
    assert answer == f"{EN.answer}The decorator stores the rendered output for ten minutes. [1]"


def test_a_source_without_prose_is_quoted_only_when_it_shares_a_word():
    code_only = SimpleNamespace(text="Guide > Setup\n```\npip install x\n```", document_title="G")
    assert extractive_answer("How do I install it?", [code_only]).startswith(EN.excerpt)
    assert extractive_answer("What is the capital of France?", [code_only]) == EN.nothing


def test_a_follow_up_matches_with_the_questions_it_follows():
    # Its own words match: answered from the pagination passage.
    answer = extractive_answer("and how do I set its size?", SOURCES)
    assert answer.startswith(f"{EN.answer}The PAGE_SIZE setting says how many items")
    # Its own words match nothing ("configurable"): the earlier question's do.
    question = "And is that configurable?"
    assert extractive_answer(question, SOURCES) == EN.nothing
    followed = "How does pagination work? And is that configurable?"
    answer = extractive_answer(question, SOURCES, followed=followed)
    assert answer.startswith(f"{EN.answer}Pagination splits large result sets into pages. [1]")
    # An earlier question that matches nothing either: still nothing.
    assert extractive_answer(question, SOURCES, followed="Capital? " + question) == EN.nothing


def test_the_provider_reads_the_earlier_questions_from_the_prompt():
    question = "And is that configurable?"
    messages = [
        {"role": "system", "content": "Answer from the sources."},
        {"role": "user", "content": "How does pagination work?"},
        {"role": "assistant", "content": "It splits result sets into pages [1]."},
        {"role": "user", "content": f"<sources>...</sources>\n\nQuestion: {question}"},
    ]
    assert followed_query(question, messages) == f"How does pagination work? {question}"
    assert followed_query(question, messages[:1] + messages[-1:]) == question

    async def run(msgs) -> str:
        stream = ExtractiveProvider().stream(
            messages=msgs, model="extractive", temperature=0.0, max_tokens=500,
            sources=SOURCES, question=question,
        )  # fmt: skip
        return "".join([c.text async for c in stream])

    assert asyncio.run(run(messages)).startswith(f"{EN.answer}Pagination splits")
    assert asyncio.run(run(messages[:1] + messages[-1:])) == EN.nothing


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::Warning")
def test_chat_answers_an_unrelated_question_with_nothing_found_and_no_citations(
    client, tenant, make_key, settings
):
    settings.CHAT_PROVIDER = "extractive"
    kb = build_kb(tenant, slug="docs", docs=DOCS)
    assert kb.bot.score_threshold == 0  # retrieval returns its top chunks whatever is asked
    key = make_key(tenant)

    status, body = chat(client, key, bot="docs", message="How do I reset my password?")
    assert status == 200, body
    assert (body["answer"], body["citations"], body["refused"]) == (EN.nothing, [], False)
    stored = Message.objects.get(id=body["message_id"])
    assert (stored.content, stored.citations) == (EN.nothing, [])

    status, events = chat(
        client, key, bot="docs", message="What is the capital of France?", stream=True
    )
    assert status == 200, events
    assert [e for e, _ in events][:2] == ["start", "citations"]
    assert events[1][1] == {"citations": []}  # sent before the answer's first words
    text = "".join(d["text"] for e, d in events if e == "delta")
    assert text == EN.nothing
    assert events[-1][0] == "end"

    res = client.post(
        "/v1/openai/chat/completions",
        {"model": "docs", "messages": [{"role": "user", "content": "Tell me a joke."}]},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip
    assert res.status_code == 200, res.content
    assert res.json()["choices"][0]["message"]["content"] == EN.nothing
    assert res.json()["citations"] == []

    # A question the passages hold, however short, still answers with its citations.
    status, body = chat(client, key, bot="docs", message="pagination?")
    assert status == 200, body
    assert body["answer"].startswith(EN.answer), body["answer"]
    assert body["citations"]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])}
    titles = {c["document_title"] for c in body["citations"] if c["index"] in cited}
    assert titles == {"Pagination"}


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::Warning")
def test_chat_follow_up_answers_from_the_passage_its_conversation_is_about(
    client, tenant, make_key, settings
):
    settings.CHAT_PROVIDER = "extractive"
    build_kb(tenant, slug="docs", docs=DOCS)
    key = make_key(tenant)
    status, first = chat(client, key, bot="docs", message="How does pagination work?")
    assert status == 200, first
    follow_up = "And is that configurable?"  # no word of it in any passage
    status, body = chat(
        client, key, bot="docs", message=follow_up, conversation_id=first["conversation_id"]
    )
    assert status == 200, body
    assert body["answer"].startswith(f"{EN.answer}Pagination splits large result sets")
    assert body["citations"]
    # Asked alone, in a new conversation, it is about nothing the documents hold.
    status, alone = chat(client, key, bot="docs", message=follow_up)
    assert (alone["answer"], alone["citations"]) == (EN.nothing, [])
