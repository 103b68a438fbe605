"""A document being re-ingested keeps answering from its previous version until the new one is
swapped in (retrieval.READABLE): /v1/retrieve and chats find it while it is queued and while the
worker processes it. Before, retrieval read ready documents only, so a document dropped out of
answers for as long as its re-ingest took (minutes for a large file). A first ingestion in
progress, a failed document and a deleted one are never read; scopes' tags and tenants still
decide who sees it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conversations.tests.factories import BotFactory, ScopeFactory
from conversations.tests.helpers import chat
from datasets import ingestion
from datasets.ingestion import process_document
from datasets.models import Dataset, Document
from datasets.retrieval import retrieve

pytestmark = pytest.mark.django_db

HOURS = "Opening hours of the Lisbon office: weekdays from 8 to 18, Saturdays from 9 to 12."
PARKING = "Parking at the Porto warehouse: visitors use the lot behind gate 3, free for 2 hours."
Q = "When is the Lisbon office open?"


def _post(api, dataset_id: str, text: str, title: str, tags=()) -> str:
    res = api.post(
        f"/v1/datasets/{dataset_id}/documents",
        {"text": text, "title": title, "tags": list(tags)},
        format="json",
    )
    assert res.status_code == 202, res.json()
    return res.json()["id"]


def _ready(api, dataset_id: str, text: str, title: str, tags=()) -> str:
    doc_id = _post(api, dataset_id, text, title, tags)
    assert process_document(doc_id) == "ready"
    return doc_id


def _retrieve(api, query: str = Q, **body) -> dict[str, list[str]]:
    """The chunk ids found per document id."""
    res = api.post("/v1/retrieve", {"query": query, "top_k": 10, **body}, format="json")
    assert res.status_code == 200, res.json()
    found: dict[str, list[str]] = {}
    for r in res.json()["data"]:
        found.setdefault(r["document_id"], []).append(r["chunk_id"])
    return found


def _chunk_ids(api, doc_id: str) -> list[str]:
    return [c["id"] for c in api.get(f"/v1/documents/{doc_id}/chunks").json()["data"]]


def _while_the_worker_runs(monkeypatch, check) -> list:
    """Call ``check()`` once while ``process_document`` runs, right after the worker's first
    progress write (the document is ``processing``; the new chunks are not written yet)."""
    real = ingestion._Progress.__call__
    seen: list = []

    def spy(self, value, *, force=False):
        real(self, value, force=force)
        if not seen:
            seen.append(check())

    monkeypatch.setattr(ingestion._Progress, "__call__", spy)
    return seen


@pytest.fixture
def setup(api, tenant):
    res = api.post("/v1/datasets", {"name": "Offices"}, format="json")
    assert res.status_code == 201, res.json()
    ds = res.json()["id"]
    hours = _ready(api, ds, HOURS, "Hours", tags=["public"])
    _ready(api, ds, PARKING, "Parking", tags=["public"])
    bot = BotFactory(tenant=tenant, slug="offices", datasets=[Dataset.objects.get(pk=ds)])
    return ds, hours, bot


def test_a_queued_reingest_still_answers_from_the_previous_version(
    api, client, make_key, tenant, openai_stub, setup
):
    ds, hours, _ = setup
    before = _chunk_ids(api, hours)
    assert _retrieve(api, datasets=[ds])[hours] == before

    assert api.post(f"/v1/documents/{hours}/reingest").status_code == 202
    assert api.get(f"/v1/documents/{hours}").json()["status"] == "queued"
    assert _retrieve(api, datasets=[ds])[hours] == before
    assert _retrieve(api, bot="offices")[hours] == before
    status, body = chat(client, make_key(tenant), bot="offices", message=Q)
    assert status == 200, body
    assert hours in [c["document_id"] for c in body["citations"]]
    assert "weekdays from 8 to 18" in str(openai_stub.chat_requests()[-1].body)

    # Once ready, the new version (new chunks) is read instead of the previous one.
    assert process_document(hours) == "ready"
    after = _chunk_ids(api, hours)
    assert set(after).isdisjoint(before)
    assert _retrieve(api, datasets=[ds])[hours] == after


def test_a_reingest_the_worker_is_processing_still_answers(
    api, client, make_key, tenant, openai_stub, setup, monkeypatch
):
    ds, hours, _ = setup
    before = _chunk_ids(api, hours)
    key = make_key(tenant)
    assert api.post(f"/v1/documents/{hours}/reingest").status_code == 202

    def check():
        status, body = chat(client, key, bot="offices", message=Q)
        assert status == 200, body
        return (
            Document.objects.get(pk=hours).status,
            _retrieve(api, datasets=[ds]).get(hours),
            [c["chunk_id"] for c in body["citations"] if c["document_id"] == hours],
        )

    seen = _while_the_worker_runs(monkeypatch, check)
    assert process_document(hours) == "ready"
    [(status, retrieved, cited)] = seen
    assert status == "processing"
    assert retrieved == before
    assert cited
    assert set(cited) <= set(before)


def test_a_first_ingestion_in_progress_is_not_read(api, setup, monkeypatch):
    ds, hours, _ = setup
    lisbon = "Lisbon office holidays: closed on 13 June for Saint Anthony."
    new = _post(api, ds, lisbon, "Holidays")
    assert new not in _retrieve(api, "Lisbon office holidays", datasets=[ds])  # queued

    seen = _while_the_worker_runs(
        monkeypatch,
        lambda: (
            Document.objects.get(pk=new).status,
            _retrieve(api, "Lisbon office holidays", datasets=[ds]),
        ),
    )
    assert process_document(new) == "ready"
    [(status, found)] = seen
    assert status == "processing"
    assert new not in found
    assert hours in found  # the search itself worked
    assert new in _retrieve(api, "Lisbon office holidays", datasets=[ds])


def test_a_failed_document_without_a_previous_version_is_not_read(api, setup):
    ds, _, _ = setup
    new = _post(api, ds, "Lisbon office holidays: closed on 13 June.", "Holidays")
    Document.objects.get(pk=new).file.delete(save=False)
    assert process_document(new) == "failed"
    # A failed document posted again is queued as new: still nothing to read.
    res = api.post(
        f"/v1/datasets/{ds}/documents",
        {"text": "Lisbon office holidays: closed on 13 June.", "title": "Holidays"},
        format="json",
    )
    assert res.status_code == 202, res.json()
    assert res.json()["id"] == new
    assert res.json()["status"] == "queued"
    assert new not in _retrieve(api, "Lisbon office holidays", datasets=[ds])


def test_a_document_deleted_during_its_reingest_disappears_at_once(
    api, client, make_key, tenant, openai_stub, setup
):
    ds, hours, _ = setup
    assert api.post(f"/v1/documents/{hours}/reingest").status_code == 202
    assert hours in _retrieve(api, datasets=[ds])
    assert api.delete(f"/v1/documents/{hours}").status_code == 204
    assert hours not in _retrieve(api, datasets=[ds])
    status, body = chat(client, make_key(tenant), bot="offices", message=Q)
    assert status == 200, body
    assert hours not in [c["document_id"] for c in body["citations"]]
    with pytest.raises(ingestion.Skipped):
        process_document(hours)


def test_scopes_and_tenants_still_decide_during_a_reingest(
    api, other_api, client, make_key, tenant, other_tenant, openai_stub, setup
):
    ds, hours, bot = setup
    ScopeFactory(tenant=tenant, slug="public", document_tags=["public"])
    internal = ScopeFactory(tenant=tenant, slug="internal", document_tags=["internal"])
    assert api.post(f"/v1/documents/{hours}/reingest").status_code == 202

    assert hours in _retrieve(api, bot="offices", scope="public")
    assert hours not in _retrieve(api, bot="offices", scope="internal")
    key = make_key(tenant, scopes=[internal])
    status, body = chat(client, key, bot="offices", message=Q, scope="internal")
    assert status == 200, body
    assert hours not in [c["document_id"] for c in body["citations"]]
    assert "weekdays from 8 to 18" not in str(openai_stub.chat_requests()[-1].body)

    # Another tenant: our dataset and bot are a 404; its own bot never reads our document.
    res = other_api.post("/v1/retrieve", {"query": Q, "datasets": [ds]}, format="json")
    assert res.status_code == 404
    res = other_api.post("/v1/retrieve", {"query": Q, "bot": str(bot.id)}, format="json")
    assert res.status_code == 404
    theirs = other_api.post("/v1/datasets", {"name": "Offices"}, format="json").json()["id"]
    _ready(other_api, theirs, PARKING, "Parking")
    BotFactory(tenant=other_tenant, slug="offices", datasets=[Dataset.objects.get(pk=theirs)])
    res = other_api.post("/v1/retrieve", {"query": Q, "bot": "offices"}, format="json")
    assert res.status_code == 200
    assert hours not in {r["document_id"] for r in res.json()["data"]}
    # Even handed our dataset's id, the engine reads only the caller's tenant.
    for mode in ("vector", "keyword", "hybrid"):
        found = retrieve(tenant=other_tenant, query=Q, dataset_ids=[ds, theirs], mode=mode)
        assert hours not in {r.document_id for r in found}
    assert hours in {r.document_id for r in retrieve(tenant=tenant, query=Q, dataset_ids=[ds])}


def test_posting_again_with_other_tags_applies_them_to_the_version_still_read(api, setup):
    """A document whose re-ingest failed (ready, previous version kept) posted again with other
    tags is read while queued: its chunks carry the new tags at once, so a scope that no longer
    matches stops reading it then, not when the new version is ready."""
    ds, hours, bot = setup
    ScopeFactory(tenant=bot.tenant, slug="public", document_tags=["public"])
    ScopeFactory(tenant=bot.tenant, slug="internal", document_tags=["internal"])
    assert api.post(f"/v1/documents/{hours}/reingest").status_code == 202
    Document.objects.get(pk=hours).file.delete(save=False)
    assert process_document(hours) == "ready"  # failed, previous version kept
    assert hours in _retrieve(api, bot="offices", scope="public")

    upload = SimpleUploadedFile("hours.txt", HOURS.encode())
    res = api.post(
        f"/v1/datasets/{ds}/documents",
        {"file": upload, "title": "Hours", "tags": "internal"},
        format="multipart",
    )
    assert res.status_code == 202, res.json()
    assert res.json()["id"] == hours
    assert res.json()["status"] == "queued"
    assert hours not in _retrieve(api, bot="offices", scope="public")
    assert hours in _retrieve(api, bot="offices", scope="internal")
