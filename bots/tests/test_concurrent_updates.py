"""Two PATCHes of one bot, scope or dataset at once: each applies its fields to the row as it
is when its turn comes (locked), not to the row its request read. Saving the row as read put the
other PATCH's fields back: a bot switched off (``is_active`` false) while its prompt was edited
was on again, and a dataset got a chunk_overlap checked against a chunk_size it no longer had."""

from __future__ import annotations

import pytest

from bots.models import Bot, Scope
from bots.services import bot_update, scope_update
from bots.tests.factories import BotFactory, ScopeFactory
from bots.tests.test_dataset_link_race import _run
from chatbot_project.errors import APIError
from datasets.models import Dataset
from datasets.services import dataset_update
from datasets.tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_bot_switched_off_meanwhile_stays_off(tenant):
    bot = BotFactory(tenant=tenant)
    read_a, read_b = Bot.objects.get(pk=bot.pk), Bot.objects.get(pk=bot.pk)  # each request's
    outcome = _run(
        lambda: bot_update(tenant=tenant, bot=read_a, data={"is_active": False}),
        lambda: bot_update(tenant=tenant, bot=read_b, data={"system_prompt": "Be brief."}),
    )
    assert outcome == {"first": "ok", "second": "ok"}
    row = Bot.objects.get(pk=bot.pk)
    assert (row.is_active, row.system_prompt) == (False, "Be brief.")  # was on again


def test_a_bots_retrieval_and_name_both_stay(tenant):
    bot = BotFactory(tenant=tenant, name="Old")
    read_a, read_b = Bot.objects.get(pk=bot.pk), Bot.objects.get(pk=bot.pk)
    outcome = _run(
        lambda: bot_update(tenant=tenant, bot=read_a, data={"retrieval": {"top_k": 9}}),
        lambda: bot_update(tenant=tenant, bot=read_b, data={"name": "New"}),
    )
    assert outcome == {"first": "ok", "second": "ok"}
    row = Bot.objects.get(pk=bot.pk)
    assert (row.top_k, row.name) == (9, "New")


def test_two_scope_patches_both_stay(tenant):
    scope = ScopeFactory(tenant=tenant)
    read_a, read_b = Scope.objects.get(pk=scope.pk), Scope.objects.get(pk=scope.pk)
    outcome = _run(
        lambda: scope_update(tenant=tenant, scope=read_a, data={"blocked_terms": ["salary"]}),
        lambda: scope_update(tenant=tenant, scope=read_b, data={"refusal_message": "No."}),
    )
    assert outcome == {"first": "ok", "second": "ok"}
    row = Scope.objects.get(pk=scope.pk)
    assert (row.blocked_terms, row.refusal_message) == (["salary"], "No.")


def test_a_dataset_overlap_is_checked_against_the_size_set_meanwhile(tenant):
    dataset = DatasetFactory(tenant=tenant, chunk_size=200, chunk_overlap=30)
    read_a, read_b = Dataset.objects.get(pk=dataset.pk), Dataset.objects.get(pk=dataset.pk)
    outcome = _run(
        lambda: dataset_update(tenant=tenant, dataset=read_a, chunk_size=100),
        lambda: dataset_update(tenant=tenant, dataset=read_b, chunk_overlap=150),
    )
    assert outcome["first"] == "ok"
    assert isinstance(outcome["second"], APIError), repr(outcome["second"])
    row = Dataset.objects.get(pk=dataset.pk)
    assert (row.chunk_size, row.chunk_overlap) == (100, 30)  # was (200, 150)


def test_a_dataset_name_and_description_both_stay(tenant):
    dataset = DatasetFactory(tenant=tenant, name="Old")
    read_a, read_b = Dataset.objects.get(pk=dataset.pk), Dataset.objects.get(pk=dataset.pk)
    outcome = _run(
        lambda: dataset_update(tenant=tenant, dataset=read_a, name="New"),
        lambda: dataset_update(tenant=tenant, dataset=read_b, description="Policies."),
    )
    assert outcome == {"first": "ok", "second": "ok"}
    row = Dataset.objects.get(pk=dataset.pk)
    assert (row.name, row.description) == ("New", "Policies.")
