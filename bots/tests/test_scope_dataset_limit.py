"""A scope listing datasets stays limited when they are deleted (to none, not to all the bot's):
deleting a scope's only dataset let chats under it read every other dataset of the bot."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from bots.models import Scope
from bots.tests.factories import BotFactory, ScopeFactory
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db

CANARY = "ZEBRA-CANARY-9012"


def _dataset(tenant, name: str, text: str):
    dataset = DatasetFactory(tenant=tenant, name=name)
    document = DocumentFactory(dataset=dataset, title=name)
    ChunkFactory(document=document, index=0, text=text)
    return dataset


def _retrieved(client: APIClient, scope: str) -> list[str]:
    res = client.post(
        "/v1/retrieve",
        {"bot": "mixed", "query": f"vault password {CANARY}", "scope": scope, "mode": "keyword"},
        format="json",
    )
    assert res.status_code == 200, res.content
    return [row["text"] for row in res.json()["data"]]


def test_deleting_a_scopes_only_dataset_does_not_open_the_bots_others(tenant, api, client_for):
    public = _dataset(tenant, "public", "The office opens at nine; vault password questions go.")
    internal = _dataset(tenant, "internal", f"The vault password is {CANARY}.")
    res = api.post("/v1/scopes", {"name": "Public", "datasets": [str(public.id)]}, format="json")
    assert res.status_code == 201, res.content
    assert res.json()["limited_to_datasets"] is True
    BotFactory(tenant=tenant, slug="mixed", datasets=[public, internal])
    scope = Scope.objects.get(slug="public")
    client = client_for(tenant, ("chat",), scopes=[scope])
    assert not any(CANARY in text for text in _retrieved(client, "public"))

    assert api.delete(f"/v1/datasets/{public.id}").status_code == 204

    shown = api.get(f"/v1/scopes/{scope.id}").json()
    assert (shown["datasets"], shown["limited_to_datasets"]) == ([], True)
    assert _retrieved(client, "public") == []  # limited to none, not to every dataset


def test_an_empty_datasets_list_lifts_the_limit(tenant, api):
    dataset = DatasetFactory(tenant=tenant)
    res = api.post("/v1/scopes", {"name": "Open"}, format="json")
    assert res.json()["limited_to_datasets"] is False
    scope_id = res.json()["id"]
    patched = api.patch(f"/v1/scopes/{scope_id}", {"datasets": [str(dataset.id)]}, format="json")
    assert patched.json()["limited_to_datasets"] is True
    assert api.patch(f"/v1/scopes/{scope_id}", {"name": "Renamed"}, format="json").json()[
        "limited_to_datasets"
    ]
    lifted = api.patch(f"/v1/scopes/{scope_id}", {"datasets": []}, format="json")
    assert lifted.json()["limited_to_datasets"] is False
    res = api.patch(f"/v1/scopes/{scope_id}", {"limited_to_datasets": False}, format="json")
    assert res.status_code == 400  # read-only: set by sending `datasets`


def test_migration_marks_scopes_that_list_datasets_as_limited(tenant):
    listing = ScopeFactory(tenant=tenant, datasets=[DatasetFactory(tenant=tenant)])
    plain = ScopeFactory(tenant=tenant)
    Scope.objects.update(limited_to_datasets=False)  # as before 0002

    migration = importlib.import_module("bots.migrations.0002_scope_dataset_limit_kept")
    migration.mark_limited_scopes(apps, None)

    listing.refresh_from_db()
    plain.refresh_from_db()
    assert (listing.limited_to_datasets, plain.limited_to_datasets) == (True, False)


def _scope_form(scope: Scope, **overrides) -> dict:
    """The admin change form of ``scope`` as stored, with ``overrides``."""
    data = {
        "tenant": str(scope.tenant_id),
        "name": scope.name,
        "slug": scope.slug,
        "datasets": [str(d.pk) for d in scope.datasets.all()],
        "refusal_message": scope.refusal_message,
        "max_input_chars": scope.max_input_chars,
    }
    if scope.limited_to_datasets:
        data["limited_to_datasets"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_edits_keep_the_limit_of_a_scope_whose_datasets_are_gone(client, tenant):
    from tenants.tests.admin_support import admin_client, admin_url
    from tenants.tests.factories import UserFactory

    root = admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    dataset = DatasetFactory(tenant=tenant)
    scope = ScopeFactory(tenant=tenant)

    res = root.post(admin_url(scope), _scope_form(scope, datasets=[str(dataset.pk)]))
    assert res.status_code == 302, res.context["adminform"].form.errors
    scope.refresh_from_db()
    assert scope.limited_to_datasets  # listing a dataset limits the scope to it

    dataset.delete()
    res = root.post(admin_url(scope), _scope_form(scope, name="Renamed"))
    assert res.status_code == 302, res.context["adminform"].form.errors
    scope.refresh_from_db()
    assert (scope.name, scope.limited_to_datasets) == ("Renamed", True)

    res = root.post(admin_url(scope), _scope_form(scope, limited_to_datasets=None))
    assert res.status_code == 302, res.context["adminform"].form.errors
    scope.refresh_from_db()
    assert not scope.limited_to_datasets  # unticking it opens the scope to the bot's datasets
