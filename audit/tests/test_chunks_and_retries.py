"""Content changes outside the services' usual paths are audit events too: chunks deleted in
the admin (``chunk.delete``, one per document, naming it) and a failed document queued again by
posting its content again (``document.retry``)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from datasets.models import Chunk, Document
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory
from tenants.tests.admin_support import admin_url, staff_client

pytestmark = pytest.mark.django_db


def _events(tenant, action):
    return list(AuditEvent.objects.for_tenant(tenant).filter(action=action))


def _document(dataset, title, chunks):
    doc = DocumentFactory(dataset=dataset, title=title, chunk_count=chunks)
    return doc, [ChunkFactory(document=doc, index=i) for i in range(chunks)]


def test_chunks_deleted_in_the_admin_are_one_event_per_document(client, tenant, other_tenant):
    dataset = DatasetFactory(tenant=tenant)
    (a, a_chunks), (b, b_chunks) = _document(dataset, "Handbook", 3), _document(dataset, "FAQ", 2)
    theirs, their_chunks = _document(DatasetFactory(tenant=other_tenant), "Theirs", 2)
    staff = staff_client(client, {tenant: "owner"})
    res = staff.post(
        "/admin/datasets/chunk/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [
            str(c.pk) for c in (a_chunks[0], a_chunks[2], *b_chunks, their_chunks[0])
        ]},
    )  # fmt: skip
    assert res.status_code == 302
    by_document = {e.object_id: e for e in _events(tenant, "chunk.delete")}
    assert set(by_document) == {str(a.pk), str(b.pk)}
    handbook = by_document[str(a.pk)]
    assert handbook.object_label == "Handbook"
    assert handbook.changes == {
        "document": str(a.pk), "dataset": str(dataset.pk), "chunks": 2, "indexes": [0, 2],
        "chunk_count": {"old": 3, "new": 1},
    }  # fmt: skip
    assert (handbook.actor_label, handbook.via) == ("acme-staff", "admin")
    assert by_document[str(b.pk)].changes["chunk_count"] == {"old": 2, "new": 0}
    # Another tenant's chunk was not deleted, and nothing was recorded in its log.
    assert Chunk.objects.filter(document=theirs).count() == 2
    assert _events(other_tenant, "chunk.delete") == []
    for chunk in a_chunks:  # no chunk text in the log
        assert chunk.text not in str(handbook.changes)


def test_a_chunks_delete_page_records_its_document(client, tenant):
    doc, chunks = _document(DatasetFactory(tenant=tenant), "Handbook", 2)
    staff = staff_client(client, {tenant: "owner"})
    assert staff.post(admin_url(chunks[1], "delete"), {"post": "yes"}).status_code == 302
    [event] = _events(tenant, "chunk.delete")
    assert (event.object_id, event.changes["indexes"]) == (str(doc.pk), [1])


def test_reposting_a_failed_document_is_recorded_as_a_retry(tenant, other_tenant, client_for):
    api = client_for(tenant, ("read", "write", "admin"))
    dataset = api.post("/v1/datasets", {"name": "Docs"}, format="json").json()["id"]
    body = {"text": "Returns are accepted within 30 days.", "title": "Returns"}
    doc_id = api.post(f"/v1/datasets/{dataset}/documents", body, format="json").json()["id"]
    error = "The PDF is damaged. " * 20  # 400 characters
    Document.objects.filter(pk=doc_id).update(status=Document.Status.FAILED, error=error)
    again = {**body, "title": "Returns policy", "tags": ["policy"]}
    res = api.post(f"/v1/datasets/{dataset}/documents", again, format="json")
    assert (res.status_code, res.json()["id"]) == (202, doc_id)
    [event] = _events(tenant, "document.retry")
    assert (event.object_id, event.object_label) == (doc_id, "Returns policy")
    assert (event.actor_type, event.via) == ("api_key", "api")
    assert event.changes["status"] == {"old": "failed", "new": "queued"}
    assert event.changes["error"] == {"old": error[:200], "new": ""}
    assert event.changes["title"] == {"old": "Returns", "new": "Returns policy"}
    assert event.changes["tags"] == {"old": [], "new": ["policy"]}
    assert event.changes["file"] == {"changed": True}
    assert len(_events(tenant, "document.create")) == 1  # a retry, not a second creation
    assert "30 days" not in str(event.changes)
    assert _events(other_tenant, "document.retry") == []


def test_reingesting_a_failed_document_records_its_previous_status(tenant, client_for):
    api = client_for(tenant, ("read", "write", "admin"))
    dataset = api.post("/v1/datasets", {"name": "Docs"}, format="json").json()["id"]
    body = {"text": "Returns are accepted within 30 days.", "title": "Returns"}
    doc_id = api.post(f"/v1/datasets/{dataset}/documents", body, format="json").json()["id"]
    Document.objects.filter(pk=doc_id).update(status=Document.Status.FAILED, error="Broken.")
    assert api.post(f"/v1/documents/{doc_id}/reingest").status_code == 202
    [event] = _events(tenant, "document.reingest")
    assert event.changes == {"refetch": False, "status": {"old": "failed", "new": "queued"}}
