"""An object linked to another while that one is deleted (a bot or scope to a dataset, a bot's
default_scope to a scope, an API key to a bot, a new document to its dataset): either order ends
cleanly (a 400 or 404 for the link, or the link removed with the deleted object), never a
foreign-key violation (500) at commit, which both routes of each pair answered under this race."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction

from apikeys.models import APIKey
from apikeys.services import api_key_create_for
from bots.models import Bot, Scope
from bots.services import bot_delete, bot_update, scope_delete, scope_update
from bots.tests.factories import BotFactory, ScopeFactory
from chatbot_project.errors import APIError, NotFound
from datasets.models import Dataset, Document
from datasets.services import dataset_delete, document_create_from_text
from datasets.tests.factories import DatasetFactory
from tenants.context import ROLE_PERMISSIONS, AuthContext

pytestmark = pytest.mark.django_db(transaction=True)


def _link(owner: Bot | Scope, dataset_id: Any) -> None:
    update = bot_update if isinstance(owner, Bot) else scope_update
    fresh = type(owner).objects.get(pk=owner.pk)
    update(tenant=owner.tenant, **{owner._meta.model_name: fresh}, data={"datasets": [dataset_id]})


def _run(first: Any, second: Any) -> dict[str, Any]:
    """``first`` runs in a transaction held open until ``second`` has started (and waits on it,
    or not): what each raised, or "ok"."""
    outcome: dict[str, Any] = {}
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                first()
                started.set()
                release.wait(5)
            outcome["first"] = "ok"
        except Exception as exc:  # recorded for the assertions
            outcome["first"] = exc
        finally:
            started.set()
            connection.close()

    def then() -> None:
        try:
            second()
            outcome["second"] = "ok"
        except Exception as exc:  # recorded for the assertions
            outcome["second"] = exc
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait(5)
    follower = threading.Thread(target=then)
    follower.start()
    time.sleep(0.5)  # the follower is blocked on the holder's lock by now (or done)
    release.set()
    holder.join(10)
    follower.join(10)
    return outcome


@pytest.mark.parametrize("kind", ["bot", "scope"])
def test_linking_a_dataset_being_deleted_is_a_400(tenant, kind):
    owner = (BotFactory if kind == "bot" else ScopeFactory)(tenant=tenant)
    dataset = DatasetFactory(tenant=tenant)
    dataset_id = dataset.id  # the deletion sets dataset.id to None

    outcome = _run(
        lambda: dataset_delete(tenant=tenant, dataset=dataset), lambda: _link(owner, dataset_id)
    )

    assert outcome["first"] == "ok"
    error = outcome["second"]
    assert isinstance(error, APIError), repr(error)  # was IntegrityError at commit: a 500
    assert error.status_code == 400
    assert str(error.detail) == f"datasets: no such id(s) in this tenant: {dataset_id}."
    assert not type(owner).datasets.through.objects.exists()


@pytest.mark.parametrize("kind", ["bot", "scope"])
def test_deleting_a_dataset_being_linked_deletes_the_link_too(tenant, kind):
    owner = (BotFactory if kind == "bot" else ScopeFactory)(tenant=tenant)
    dataset = DatasetFactory(tenant=tenant)
    dataset_id = dataset.id

    outcome = _run(
        lambda: _link(owner, dataset_id), lambda: dataset_delete(tenant=tenant, dataset=dataset)
    )

    assert outcome == {"first": "ok", "second": "ok"}, outcome  # the link failed at commit
    assert not Dataset.objects.filter(pk=dataset_id).exists()
    assert not type(owner).datasets.through.objects.exists()


def _point_default_scope(bot: Bot, scope_id: Any) -> None:
    fresh = Bot.objects.get(pk=bot.pk)
    bot_update(tenant=bot.tenant, bot=fresh, data={"default_scope": scope_id})


def _key_for(bot: Bot, bot_id: Any) -> None:
    owner = AuthContext(tenant=bot.tenant, permissions=ROLE_PERMISSIONS["owner"])
    api_key_create_for(context=owner, data={"name": "k", "bots": [bot_id]})


@pytest.mark.parametrize("link_first", [False, True])
def test_a_default_scope_and_its_deletion(tenant, link_first):
    bot, scope = BotFactory(tenant=tenant), ScopeFactory(tenant=tenant)
    scope_id = scope.id
    link, delete = (
        lambda: _point_default_scope(bot, scope_id),
        lambda: scope_delete(tenant=tenant, scope=scope),
    )
    outcome = _run(link, delete) if link_first else _run(delete, link)
    bot.refresh_from_db()
    if link_first:  # the deletion waited for the link, then refuses: a bot's default (409)
        assert bot.default_scope_id == scope_id
        assert outcome["first"] == "ok"
        assert isinstance(outcome["second"], APIError), repr(outcome["second"])
        assert outcome["second"].status_code == 409
    else:  # was IntegrityError at commit: a 500
        assert bot.default_scope_id is None
        assert outcome["first"] == "ok"
        assert isinstance(outcome["second"], APIError), repr(outcome["second"])
        assert outcome["second"].status_code == 400


@pytest.mark.parametrize("link_first", [False, True])
def test_a_key_limited_to_a_bot_and_the_bots_deletion(tenant, link_first):
    bot = BotFactory(tenant=tenant)
    bot_id = bot.id
    link, delete = lambda: _key_for(bot, bot_id), lambda: bot_delete(tenant=tenant, bot=bot)
    outcome = _run(link, delete) if link_first else _run(delete, link)
    if link_first:  # the key was stored, then its bot deleted: limited to none
        assert outcome == {"first": "ok", "second": "ok"}, outcome
        key = APIKey.objects.get(name="k")
        assert key.limited_to_bots
        assert not key.bots.exists()
    else:  # was IntegrityError at commit: a 500
        assert outcome["first"] == "ok"
        assert isinstance(outcome["second"], APIError), repr(outcome["second"])
        assert outcome["second"].status_code == 400
        assert not APIKey.objects.filter(name="k").exists()


@pytest.mark.parametrize("create_first", [False, True])
def test_a_document_posted_to_a_dataset_being_deleted(tenant, create_first, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    dataset = DatasetFactory(tenant=tenant)
    as_read = Dataset.objects.get(pk=dataset.pk)  # each request reads its own (delete() clears pk)
    create = lambda: document_create_from_text(  # noqa: E731
        tenant=tenant, dataset=as_read, text="Posted while the dataset goes.", title="t"
    )
    delete = lambda: dataset_delete(tenant=tenant, dataset=dataset)  # noqa: E731
    outcome = _run(create, delete) if create_first else _run(delete, create)
    if create_first:  # the deletion waited and took the new document with it
        assert outcome == {"first": "ok", "second": "ok"}, outcome
    else:  # was IntegrityError at commit: a 500
        assert outcome["first"] == "ok"
        assert isinstance(outcome["second"], NotFound), repr(outcome["second"])
    assert not Document.objects.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no stored file left behind
