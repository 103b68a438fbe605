"""A PATCH racing a DELETE of the same bot, scope or dataset: the update waited for the delete's
row lock, matched no row, and Django's save() then inserted the row again, so the object the
DELETE had answered 204 for was back (same id, its documents or links gone). An update never
inserts now: it is a 404 when the row was deleted meanwhile."""

from __future__ import annotations

import pytest

from bots.models import Bot, Scope
from bots.services import bot_delete, bot_update, scope_delete, scope_update
from bots.tests.factories import BotFactory, ScopeFactory
from bots.tests.test_dataset_link_race import _run
from chatbot_project.errors import NotFound
from datasets.models import Dataset
from datasets.services import dataset_delete, dataset_update
from datasets.tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _bot(tenant):
    bot = BotFactory(tenant=tenant)
    as_read = Bot.objects.get(pk=bot.pk)  # each request reads its own (delete() clears pk)
    return (
        bot,
        lambda: bot_delete(tenant=tenant, bot=bot),
        lambda: bot_update(tenant=tenant, bot=as_read, data={"name": "Renamed"}),
    )


def _scope(tenant):
    scope = ScopeFactory(tenant=tenant)
    as_read = Scope.objects.get(pk=scope.pk)
    return (
        scope,
        lambda: scope_delete(tenant=tenant, scope=scope),
        lambda: scope_update(tenant=tenant, scope=as_read, data={"name": "Renamed"}),
    )


def _dataset(tenant):
    dataset = DatasetFactory(tenant=tenant)
    as_read = Dataset.objects.get(pk=dataset.pk)
    return (
        dataset,
        lambda: dataset_delete(tenant=tenant, dataset=dataset),
        lambda: dataset_update(tenant=tenant, dataset=as_read, name="Renamed"),
    )


@pytest.mark.parametrize("make", [_bot, _scope, _dataset], ids=["bot", "scope", "dataset"])
def test_an_update_racing_a_delete_does_not_bring_the_row_back(tenant, make):
    obj, delete, update = make(tenant)
    model, pk = type(obj), obj.pk

    outcome = _run(delete, update)

    assert outcome["first"] == "ok"
    assert isinstance(outcome["second"], NotFound), repr(outcome["second"])  # was "ok"
    assert not model.objects.filter(pk=pk).exists()  # was saved again, renamed


@pytest.mark.parametrize("make", [_bot, _scope, _dataset], ids=["bot", "scope", "dataset"])
def test_a_delete_after_an_update_in_progress_deletes_it(tenant, make):
    obj, delete, update = make(tenant)
    model, pk = type(obj), obj.pk

    assert _run(update, delete) == {"first": "ok", "second": "ok"}
    assert not model.objects.filter(pk=pk).exists()
