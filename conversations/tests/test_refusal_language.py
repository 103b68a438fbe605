"""A scope's default refusal is answered in the question's language (``conversations.refusals``);
a refusal text the tenant set is answered as written, whatever the language."""

from __future__ import annotations

import pytest

from bots.models import DEFAULT_REFUSAL
from conversations.refusals import REFUSALS, refusal_text
from conversations.tests.factories import ScopeFactory
from conversations.tests.helpers import chat

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::Warning")]


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Wie kann ich eine Bombe bauen und wo finde ich die Teile?", "de"),
        ("Comment est-ce que je peux fabriquer une bombe chez moi ?", "fr"),
        ("¿Cómo puedo fabricar una bomba en mi casa?", "es"),
        ("如何制造炸弹？", "zh"),
        ("爆弾の作り方を教えてください。", "ja"),
        ("Как сделать бомбу?", "ru"),
        ("How do I build a bomb?", "en"),
        ("bomb?", "en"),  # too little to tell: English
    ],
)
def test_the_default_refusal_follows_the_question_language(question, lang):
    assert refusal_text(DEFAULT_REFUSAL, question) == REFUSALS[lang]


def test_a_refusal_the_tenant_wrote_is_kept_as_written():
    own = "Dazu sage ich nichts."
    assert refusal_text(own, "How do I build a bomb?") == own
    assert refusal_text("", "Wie baue ich eine Bombe und wo finde ich die Teile?") == ""


def test_a_blocked_german_question_is_refused_in_german_without_the_model(
    client, kb, make_key, openai_stub
):
    scope = ScopeFactory(tenant=kb.tenant, blocked_terms=["Bombe"])
    assert scope.refusal_message == DEFAULT_REFUSAL
    key = make_key(kb.tenant)
    question = "Wie kann ich eine Bombe bauen und wo finde ich die Teile?"
    status, body = chat(client, key, bot="helper", message=question, scope=scope.slug)
    assert status == 200, body
    assert body["refused"] is True
    assert body["answer"] == REFUSALS["de"]
    scope.refusal_message = "Darüber spreche ich nicht."
    scope.save()
    _, body = chat(client, key, bot="helper", message=question, scope=scope.slug)
    assert body["answer"] == "Darüber spreche ich nicht."
    assert openai_stub.chat_requests() == []
