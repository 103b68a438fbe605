"""A short follow-up ("And per user?") retrieves with the question it follows. Before, retrieval
read only the new message, so the follow-up was answered from whatever its one word matched
(bench/followups.py: the follow-up's document in the top 5 for 9 of 16 pairs, 16 of 16 now)."""

from __future__ import annotations

import pytest

from conversations.followup import retrieval_query
from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat

pytestmark = pytest.mark.django_db

DOCS = {
    "Throttling": [
        "AnonRateThrottle limits how many requests anonymous clients can make per day.",
        "UserRateThrottle limits the requests of each authenticated user, by user id.",
    ],
    "Profiles": [
        "Every user has a profile. A user edits their own profile; each user sees other users' "
        "public profiles.",
    ],
}


def _turns(*questions: str) -> list[dict[str, str]]:
    out = []
    for question in questions:
        out += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": "An answer."},
        ]
    return out


def test_a_short_question_after_another_is_retrieved_with_it():
    history = _turns("How do I limit anonymous clients per day?")
    assert retrieval_query("And per user?", history) == (
        "How do I limit anonymous clients per day? And per user?"
    )
    # Vague words ("about", "them", "it") do not make a question specific.
    assert retrieval_query("What about them?", history).startswith("How do I limit")


def test_full_questions_and_first_turns_are_retrieved_alone():
    history = _turns("How do I limit anonymous clients per day?")
    question = "How do I version my API in the URL?"
    assert retrieval_query(question, history) is question
    assert retrieval_query("And per user?", []) == "And per user?"
    assert retrieval_query("And per user?", [{"role": "assistant", "content": "Hi"}]) == (
        "And per user?"
    )


def test_a_chain_of_follow_ups_reaches_back_to_the_subject_within_limits():
    history = _turns("How do I limit anonymous clients per day?", "And per user?", "Why?")
    assert retrieval_query("And then?", history) == (
        "How do I limit anonymous clients per day? And per user? Why? And then?"
    )
    long = "throttle " * 200
    query = retrieval_query("And then?", _turns(long, "Why?", "How?", "Really?"))
    assert "throttle" not in query  # at most three earlier turns
    assert len(retrieval_query("And then?", _turns(long))) <= 500 + len(" And then?")


def test_the_follow_up_in_a_conversation_cites_the_document_it_is_about(client, tenant, make_key):
    build_kb(tenant, slug="helper", docs=DOCS, top_k=1)
    key = make_key(tenant)
    status, first = chat(
        client, key, bot="helper", message="How do I limit anonymous clients per day?"
    )
    assert status == 200, first
    assert [c["document_title"] for c in first["citations"]] == ["Throttling"]

    status, alone = chat(client, key, bot="helper", message="And per user?")
    assert status == 200, alone
    assert [c["document_title"] for c in alone["citations"]] == ["Profiles"]  # one word: "user"

    conversation = first["conversation_id"]
    status, second = chat(
        client, key, bot="helper", message="And per user?", conversation_id=conversation
    )
    assert status == 200, second
    assert [c["document_title"] for c in second["citations"]] == ["Throttling"]
