"""Re-ingesting a document while a worker is ingesting it is a 409: accepted, it showed `queued`
while the worker went on, which then marked it ready, so the queued run was skipped and the
re-ingest (say, after a chunk size change) was silently lost."""

from __future__ import annotations

import pytest

from datasets.ingestion import Lease, process_document
from datasets.models import Document

pytestmark = pytest.mark.django_db


def _document(api) -> str:
    ds = api.post("/v1/datasets", {"name": "Busy"}, format="json").json()
    res = api.post(
        f"/v1/datasets/{ds['id']}/documents",
        {"text": "Opening hours: 8 to 18.", "title": "Hours"},
        format="json",
    )
    assert res.status_code == 202, res.json()
    return res.json()["id"]


def test_reingest_while_a_worker_holds_the_document_is_409(api, other_api):
    doc_id = _document(api)
    lease = Lease.acquire(doc_id)  # what a worker holds while it ingests the document
    assert lease is not None
    Document.objects.filter(pk=doc_id).update(status=Document.Status.PROCESSING, progress=0.4)
    try:
        res = api.post(f"/v1/documents/{doc_id}/reingest")
        assert res.status_code == 409, res.json()
        assert res.json()["error"]["type"] == "conflict"
        assert "being ingested" in res.json()["error"]["message"]
        assert Document.objects.get(pk=doc_id).status == Document.Status.PROCESSING
        assert other_api.post(f"/v1/documents/{doc_id}/reingest").status_code == 404
    finally:
        lease.release()


def test_reingest_after_the_worker_finished_or_died_is_accepted(api):
    doc_id = _document(api)
    assert process_document(doc_id) == "ready"
    res = api.post(f"/v1/documents/{doc_id}/reingest")
    assert res.status_code == 202, res.json()
    assert res.json()["status"] == "queued"
    # Left `processing` by a worker that died (its lease expired): re-ingesting rescues it.
    Document.objects.filter(pk=doc_id).update(status=Document.Status.PROCESSING)
    assert api.post(f"/v1/documents/{doc_id}/reingest").status_code == 202
