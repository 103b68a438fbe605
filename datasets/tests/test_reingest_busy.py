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


def test_a_worker_starting_while_the_reingest_changes_the_status_is_turned_away(api):
    """Between the old "is a worker on it" check and the status change a worker could start:
    the document then showed queued, the worker marked it ready and the queued run was
    skipped. The re-ingest now holds the worker's lease while it changes the status."""
    from django.db import connection

    doc_id = _document(api)
    assert process_document(doc_id) == "ready"
    during: list[object] = []

    def observe(execute, sql, params, many, context):
        if sql.startswith('UPDATE "datasets_document"') and '"status"' in sql:
            during.append(Lease.acquire(doc_id))  # a worker starting right now
        return execute(sql, params, many, context)

    with connection.execute_wrapper(observe):
        res = api.post(f"/v1/documents/{doc_id}/reingest")
    assert res.status_code == 202, res.json()
    assert during == [None]  # turned away: the run queued by the re-ingest does the work
    after = Lease.acquire(doc_id)  # and the lease was given back
    assert after is not None
    after.release()
