"""The chat path's hand-written bot query returns what the ORM would, and stays tenant-scoped."""

from __future__ import annotations

import pytest

from bots.models import Bot
from chatbot_project.errors import NotFound
from conversations import selectors
from conversations.tests.factories import BotFactory, ScopeFactory
from datasets.models import Dataset

pytestmark = pytest.mark.django_db


def _dataset(tenant, name):
    return Dataset.objects.create(tenant=tenant, name=name)


def _round_trips(monkeypatch) -> list[int]:
    """Records the number of statements of each pipelined round trip from here on."""
    from chatbot_project import pgpipe

    trips: list[int] = []
    real = pgpipe.run_pipelined

    def counting(raw, statements, **kw):
        trips.append(len(statements))
        return real(raw, statements, **kw)

    monkeypatch.setattr(pgpipe, "run_pipelined", counting)
    return trips


def test_bot_resolve_matches_the_orm(tenant, django_assert_num_queries, monkeypatch):
    round_trips = _round_trips(monkeypatch)
    ds1, ds2 = _dataset(tenant, "a"), _dataset(tenant, "b")
    scope = ScopeFactory(tenant=tenant, blocked_terms=["secret"], document_tags=["public"])
    scope.datasets.set([ds2])
    bot = BotFactory(tenant=tenant, slug="helper", default_scope=scope, system_prompt="Be brief.")
    bot.datasets.set([ds1, ds2])
    orm = Bot.objects.select_related("default_scope").get(pk=bot.pk)
    for ref in ("helper", str(bot.id)):
        round_trips.clear()
        with django_assert_num_queries(0):  # one prepared statement, not through the ORM
            got = selectors.bot_resolve(tenant=tenant, ref=ref)
            # Everything the chat path reads afterwards is already loaded:
            assert got.tenant == tenant
            assert got.default_scope.blocked_terms == ["secret"]
        assert round_trips == [1]
        for field in Bot._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(orm, field.attname), field.name
        assert sorted(selectors.bot_dataset_ids(got)) == sorted([ds1.id, ds2.id])
        assert got.default_scope.pk == scope.pk
        assert got.default_scope.document_tags == ["public"]
        assert got.default_scope._dataset_ids_cache == [ds2.id]
        assert got._state.adding is False


def test_bot_resolve_without_scope_or_datasets(tenant):
    BotFactory(tenant=tenant, slug="bare")
    got = selectors.bot_resolve(tenant=tenant, ref="bare")
    assert got.default_scope is None
    assert selectors.bot_dataset_ids(got) == []


def test_bot_resolve_is_tenant_scoped_and_hides_inactive(tenant, other_tenant):
    mine = BotFactory(tenant=tenant, slug="helper")
    BotFactory(tenant=tenant, slug="off", is_active=False)
    for ref in ("helper", str(mine.id)):
        with pytest.raises(NotFound):
            selectors.bot_resolve(tenant=other_tenant, ref=ref)
    with pytest.raises(NotFound):
        selectors.bot_resolve(tenant=tenant, ref="off")
    with pytest.raises(NotFound):
        selectors.bot_resolve(tenant=tenant, ref="")


def test_with_bot_confirms_a_remembered_bot_in_the_works_round_trip(
    tenant, other_tenant, monkeypatch
):
    from bots.services import bot_update
    from chatbot_project import pgpipe

    ds = _dataset(tenant, "a")
    bot = BotFactory(tenant=tenant, slug="helper", system_prompt="One.", datasets=[ds])
    theirs = BotFactory(tenant=other_tenant, slug="helper", system_prompt="Theirs.")
    trips = _round_trips(monkeypatch)
    seen: list[str] = []

    def work(b):
        seen.append(b.system_prompt)
        pgpipe.run_on_django_connection([("SELECT 1", [])])  # the work's own round trip
        return b.system_prompt

    def call(t=tenant):
        seen.clear()
        trips.clear()
        return selectors.with_bot(tenant=t, ref="helper", context=None, work=work)

    assert call() == "One."
    assert (seen, trips) == (["One."], [1, 1])  # first time: the bot read on its own
    assert call() == "One."
    assert (seen, trips) == (["One."], [2])  # remembered: the bot read rides along
    assert call(other_tenant) == "Theirs."  # same slug, other tenant: never the remembered one
    bot_update(tenant=tenant, bot=bot, data={"system_prompt": "Two."})
    assert call() == "Two."
    assert seen == ["One.", "Two."]  # the stale result was discarded
    bot.datasets.set([])
    assert call() == "Two."
    assert len(seen) == 2  # a dataset change is a change too
    bot.is_active = False
    bot.save()
    with pytest.raises(NotFound):
        call()
    assert theirs.is_active
