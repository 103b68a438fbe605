"""PATCH /v1/documents/{id}: title, tags and metadata changed in place. Before, the route was a
405, and re-posting the same content with other tags answered with the old document unchanged
(deduplication), so a wrongly tagged document (tags are scopes' access control) had to be
deleted and uploaded again."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from bots.tests.factories import ScopeFactory
from datasets import ingestion
from datasets.ingestion import process_document
from datasets.models import Chunk, Document
from datasets.retrieval import retrieve

pytestmark = pytest.mark.django_db

TEXT = "# Refunds\n\nRefunds are paid within fourteen days of the returned parcel arriving."


def _ready_document(api, tags=("internal",)) -> dict:
    ds = api.post("/v1/datasets", {"name": "Policies"}, format="json").json()
    body = {"text": TEXT, "title": "Refund policy", "tags": list(tags)}
    doc = api.post(f"/v1/datasets/{ds['id']}/documents", body, format="json").json()
    assert process_document(doc["id"]) == "ready"
    return doc


def _titles(tenant, doc, scope) -> list[str]:
    found = retrieve(
        tenant=tenant, query="When are refunds paid?", dataset_ids=[doc["dataset"]],
        scope=scope, top_k=5, mode="hybrid",
    )  # fmt: skip
    return [hit.document_title for hit in found]


def test_new_tags_reach_the_chunks_and_the_scope_filter_at_once(api, tenant):
    doc = _ready_document(api)
    public = ScopeFactory(tenant=tenant, document_tags=["public"])
    assert _titles(tenant, doc, public) == []

    res = api.patch(f"/v1/documents/{doc['id']}", {"tags": ["public", " faq "]}, format="json")
    assert res.status_code == 200, res.json()
    body = res.json()
    assert body["tags"] == ["public", "faq"]
    assert body["status"] == "ready"
    assert body["chunk_count"] >= 1
    chunk_tags = Chunk.objects.filter(document_id=doc["id"]).values_list("tags", flat=True)
    assert list(chunk_tags)
    assert all(tags == ["public", "faq"] for tags in chunk_tags)
    assert _titles(tenant, doc, public) == ["Refund policy"]

    api.patch(f"/v1/documents/{doc['id']}", {"tags": []}, format="json")
    assert _titles(tenant, doc, public) == []
    assert Document.objects.get(pk=doc["id"]).status == Document.Status.READY  # not re-ingested


def test_title_and_metadata_change_and_other_fields_stay(api):
    doc = _ready_document(api)
    url = f"/v1/documents/{doc['id']}"
    res = api.patch(
        url, {"title": "  Refunds (2026)  ", "metadata": {"owner": "ops"}}, format="json"
    )
    assert res.status_code == 200, res.json()
    assert res.json()["title"] == "Refunds (2026)"
    assert res.json()["metadata"] == {"owner": "ops"}
    assert res.json()["tags"] == ["internal"]
    assert api.get(url).json()["title"] == "Refunds (2026)"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "a\nb"}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"tags": "public"}, "tags"),
        ({"tags": ["ok", "  "]}, "tags"),
        ({"tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"status": "ready"}, "status"),
        ({"text": "new content"}, "text"),
    ],
)
def test_bad_fields_are_400_naming_them_and_change_nothing(api, body, field):
    doc = _ready_document(api)
    res = api.patch(f"/v1/documents/{doc['id']}", body, format="json")
    assert res.status_code == 400, res.json()
    assert res.json()["error"]["type"] == "invalid_request"
    assert field in res.json()["error"]["details"]["fields"]
    after = Document.objects.get(pk=doc["id"])
    assert (after.title, after.tags) == ("Refund policy", ["internal"])


def test_large_metadata_and_non_object_bodies_are_400(api):
    doc = _ready_document(api)
    url = f"/v1/documents/{doc['id']}"
    res = api.patch(url, {"metadata": {"k": "v" * 17_000}}, format="json")
    assert res.status_code == 400
    assert "16 KB" in res.json()["error"]["message"]
    assert api.patch(url, [1, 2], format="json").status_code == 400


def test_another_tenants_document_is_404_and_unchanged(api, other_api):
    doc = _ready_document(api)
    res = other_api.patch(f"/v1/documents/{doc['id']}", {"tags": ["mine"]}, format="json")
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"
    assert Document.objects.get(pk=doc["id"]).tags == ["internal"]


def test_read_only_keys_cannot_patch(api, client_for, tenant):
    doc = _ready_document(api)
    reader = client_for(tenant, permissions=("read",))
    res = reader.patch(f"/v1/documents/{doc['id']}", {"tags": ["public"]}, format="json")
    assert res.status_code == 403
    assert Document.objects.get(pk=doc["id"]).tags == ["internal"]


def test_tags_patched_during_an_ingestion_are_not_undone_by_it(api, monkeypatch):
    """The worker read the document's tags when it started and wrote its chunks with them: a
    PATCH while the pipeline ran (here: from inside it) was lost in the chunks."""
    doc = _ready_document(api)
    assert api.post(f"/v1/documents/{doc['id']}/reingest").status_code == 202
    real = ingestion.run_pipeline

    def pipeline_then_patch(*args, **kwargs):
        out = real(*args, **kwargs)
        res = api.patch(f"/v1/documents/{doc['id']}", {"tags": ["public"]}, format="json")
        assert res.status_code == 200
        return out

    monkeypatch.setattr(ingestion, "run_pipeline", pipeline_then_patch)
    assert process_document(doc["id"]) == "ready"
    tags = set(
        map(tuple, Chunk.objects.filter(document_id=doc["id"]).values_list("tags", flat=True))
    )
    assert tags == {("public",)}


def test_a_scope_limited_key_cannot_retag_but_may_retitle(api, tenant):
    """Tags decide what a scope reads: a key limited to the `public` scope retagging an
    internal document `public` would then read it."""
    from apikeys.services import api_key_create
    from bots.tests.factories import BotFactory

    doc = _ready_document(api)
    public = ScopeFactory(tenant=tenant, document_tags=["public"])
    bot = BotFactory(tenant=tenant, slug="help", default_scope=public)
    bot.datasets.set([doc["dataset"]])
    for limits in ({"scopes": [public]}, {"bots": [bot]}):
        _, raw = api_key_create(
            tenant=tenant, name="limited", permissions=["read", "write"], **limits
        )
        limited = APIClient()
        limited.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        url = f"/v1/documents/{doc['id']}"
        res = limited.patch(url, {"tags": ["public"]}, format="json")
        assert res.status_code == 403, (limits, res.json())
        assert "tags" in res.json()["error"]["message"]
        assert Document.objects.get(pk=doc["id"]).tags == ["internal"]
        assert limited.patch(url, {"title": "Refunds"}, format="json").status_code == 200
    assert _titles(tenant, doc, public) == []
