"""A key limited to certain bots or scopes sees and manages only what lies within them:
datasets (its bots' datasets its scopes read), their documents, and API keys limited within
them. The rest is a 404, as another bot is; what would widen the limit is a 403."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from bots.models import Bot
from bots.tests.factories import BotFactory, ScopeFactory
from datasets.models import Dataset, Document
from datasets.tests.factories import DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db
ALL = ["chat", "read", "write", "admin"]


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _ids(res) -> set[str]:
    assert res.status_code == 200, res.content
    return {row["id"] for row in res.json()["data"]}


@pytest.fixture
def world(tenant):
    mine, theirs = (DatasetFactory(tenant=tenant, name=n) for n in ("mine", "theirs"))
    bot = BotFactory(tenant=tenant, slug="mine")
    bot.datasets.set([mine])
    other = BotFactory(tenant=tenant, slug="other")
    other.datasets.set([theirs])
    docs = {d.name: DocumentFactory(dataset=d) for d in (mine, theirs)}
    return mine, theirs, bot, other, docs


def test_a_bot_limited_key_sees_and_manages_only_its_bots_datasets(tenant, world):
    mine, theirs, bot, _other, docs = world
    _, raw = api_key_create(tenant=tenant, name="k", permissions=ALL, bots=[bot])
    key = _bearer(raw)

    assert _ids(key.get("/v1/datasets")) == {str(mine.id)}  # was: every dataset
    assert key.get(f"/v1/datasets/{mine.id}").status_code == 200
    assert _ids(key.get(f"/v1/datasets/{mine.id}/documents")) == {str(docs["mine"].id)}
    assert key.get(f"/v1/documents/{docs['mine'].id}").status_code == 200
    for route in (
        f"/v1/datasets/{theirs.id}",
        f"/v1/datasets/{theirs.id}/documents",
        f"/v1/documents/{docs['theirs'].id}",
    ):
        assert key.get(route).status_code == 404, route
        assert key.delete(route).status_code in (404, 405), route
    res = key.patch(f"/v1/datasets/{theirs.id}", {"name": "x"}, format="json")
    assert res.status_code == 404
    res = key.post(f"/v1/datasets/{theirs.id}/documents", {"text": "hi", "title": "t"}, "json")
    assert res.status_code == 404
    assert key.post(f"/v1/documents/{docs['theirs'].id}/reingest").status_code == 404
    assert Dataset.objects.filter(pk=theirs.pk).exists()  # was: deleted by a one-bot key
    assert Document.objects.filter(pk=docs["theirs"].pk).exists()

    res = key.post("/v1/datasets", {"name": "new"}, format="json")
    assert res.status_code == 403, res.content
    assert res.json()["error"]["type"] == "permission_denied"
    assert key.delete(f"/v1/datasets/{mine.id}").status_code == 204  # its own it manages


def test_a_limited_key_links_only_datasets_it_can_see(tenant, world, api):
    mine, theirs, bot, _other, _docs = world
    _, raw = api_key_create(tenant=tenant, name="k", permissions=ALL, bots=[bot])
    key = _bearer(raw)
    res = key.patch(f"/v1/bots/{bot.id}", {"datasets": [str(mine.id), str(theirs.id)]}, "json")
    assert res.status_code == 403, res.content  # was: 200, then chats read "theirs"
    assert set(Bot.objects.get(pk=bot.pk).datasets.all()) == {mine}
    assert key.patch(f"/v1/bots/{bot.id}", {"datasets": []}, format="json").status_code == 200
    scope = key.post("/v1/scopes", {"name": "s", "slug": "s", "datasets": [str(theirs.id)]}, "json")
    assert scope.status_code == 403, scope.content
    # A signed-in user (or an unlimited key) links any dataset of the tenant.
    res = api.patch(f"/v1/bots/{bot.id}", {"datasets": [str(theirs.id)]}, format="json")
    assert res.status_code == 200


def test_a_scope_limited_key_sees_its_scopes_datasets_and_cannot_open_them(tenant, world):
    mine, theirs, _bot, _other, _docs = world
    scope = ScopeFactory(tenant=tenant, slug="narrow")
    scope.datasets.set([mine])
    scope.limited_to_datasets = True
    scope.save()
    _, raw = api_key_create(tenant=tenant, name="k", permissions=ALL, scopes=[scope])
    key = _bearer(raw)
    assert _ids(key.get("/v1/datasets")) == {str(mine.id)}
    assert key.get(f"/v1/datasets/{theirs.id}").status_code == 404
    for datasets in ([str(theirs.id)], []):  # [] reads every dataset: a widening too
        res = key.patch(f"/v1/scopes/{scope.id}", {"datasets": datasets}, format="json")
        assert res.status_code == 403, (datasets, res.content)
    scope.refresh_from_db()
    assert scope.limited_to_datasets
    assert set(scope.datasets.all()) == {mine}

    # A scope that never listed datasets reads any: so does its key (no bot limit).
    open_scope = ScopeFactory(tenant=tenant, slug="open")
    _, raw = api_key_create(tenant=tenant, name="o", permissions=["read"], scopes=[open_scope])
    assert _ids(_bearer(raw).get("/v1/datasets")) == {str(mine.id), str(theirs.id)}


def test_a_limited_admin_key_lists_only_keys_within_its_limit(tenant, world, api):
    _mine, _theirs, bot, other, _docs = world
    limited, raw = api_key_create(tenant=tenant, name="limited", permissions=ALL, bots=[bot])
    within, _ = api_key_create(tenant=tenant, name="widget", permissions=["chat"], bots=[bot])
    main, _ = api_key_create(tenant=tenant, name="main", permissions=ALL)
    elsewhere, _ = api_key_create(tenant=tenant, name="o", permissions=["chat"], bots=[other])
    both, _ = api_key_create(tenant=tenant, name="b", permissions=["chat"], bots=[bot, other])
    key = _bearer(raw)
    assert _ids(key.get("/v1/api-keys")) == {str(limited.id), str(within.id)}
    for hidden in (main, elsewhere, both):
        assert key.get(f"/v1/api-keys/{hidden.id}").status_code == 404
    everything = {str(k.id) for k in (limited, within, main, elsewhere, both)}
    assert _ids(api.get("/v1/api-keys")) >= everything  # an unlimited caller sees all
