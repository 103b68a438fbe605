"""Ids in routes are UUIDs in any letter case (chatbot_project/converters.py): Django's
``<uuid:...>`` matched lowercase only, so an id printed in uppercase (.NET, SQL Server, Excel)
was "No route matches this path" for an object that exists."""

from __future__ import annotations

import uuid

import pytest

from bots.tests.factories import BotFactory
from datasets.tests.factories import DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db


def test_uppercase_ids_reach_their_objects_and_stay_tenant_scoped(tenant, api, other_api):
    bot = BotFactory(tenant=tenant, slug="helper")
    document = DocumentFactory(dataset=DatasetFactory(tenant=tenant))
    for route, obj in (("bots", bot), ("documents", document), ("datasets", document.dataset)):
        upper = str(obj.id).upper()
        res = api.get(f"/v1/{route}/{upper}")
        assert res.status_code == 200, (route, res.content)
        assert res.json()["id"] == str(obj.id)  # lowercase, as always
        # Another tenant: the same 404 as for any object it cannot see.
        theirs = other_api.get(f"/v1/{route}/{upper}")
        assert theirs.status_code == 404
        assert theirs.json() == other_api.get(f"/v1/{route}/{uuid.uuid4()}").json()
    res = api.get(f"/v1/datasets/{str(document.dataset_id).upper()}/documents")
    assert [row["id"] for row in res.json()["data"]] == [str(document.id)]
    missing = api.get(f"/v1/bots/{str(uuid.uuid4()).upper()}")
    assert missing.status_code == 404
    assert "No route" not in missing.json()["error"]["message"]


def test_the_schema_still_says_uuid(api):
    schema = api.get("/v1/schema", HTTP_ACCEPT="application/json").json()
    params = schema["paths"]["/v1/bots/{bot_id}"]["get"]["parameters"]
    bot_id = next(p for p in params if p["name"] == "bot_id")
    assert bot_id["schema"] == {"type": "string", "format": "uuid"}
