"""A re-ingest that fails keeps the document's previous version in use: it stays `ready`, its
chunks (listed and retrieved) are the previous run's, and `error` says the re-ingest failed and
why. Before, it became `failed` while still listing the old chunks, which retrieval no longer
read: a working document vanished from answers because, say, its stored file had not been
restored with a backup, or a page limit had been lowered."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.ingestion import process_document
from datasets.models import Document

pytestmark = pytest.mark.django_db

HOURS = "Opening hours of the Lisbon office: weekdays from 8 to 18, Saturdays from 9 to 12."


def _dataset(api) -> str:
    res = api.post("/v1/datasets", {"name": "Reingest"}, format="json")
    assert res.status_code == 201, res.json()
    return res.json()["id"]


def _ready_text_document(api, dataset_id: str) -> str:
    res = api.post(
        f"/v1/datasets/{dataset_id}/documents", {"text": HOURS, "title": "Hours"}, format="json"
    )
    assert res.status_code == 202, res.json()
    doc_id = res.json()["id"]
    assert process_document(doc_id) == "ready"
    return doc_id


def _chunk_ids(api, doc_id: str) -> list[str]:
    res = api.get(f"/v1/documents/{doc_id}/chunks")
    assert res.status_code == 200, res.json()
    return [c["id"] for c in res.json()["data"]]


def _retrieved_documents(api, dataset_id: str, query: str) -> set[str]:
    res = api.post(
        "/v1/retrieve", {"datasets": [dataset_id], "query": query, "mode": "hybrid"}, format="json"
    )
    assert res.status_code == 200, res.json()
    return {r["document_id"] for r in res.json()["data"]}


def test_a_failed_reingest_keeps_the_previous_version_in_use(api, other_api):
    """The stored file is gone (a database restored without MEDIA_ROOT, README "Backups")."""
    ds = _dataset(api)
    doc_id = _ready_text_document(api, ds)
    before = _chunk_ids(api, doc_id)
    assert before
    assert doc_id in _retrieved_documents(api, ds, "Lisbon office opening hours")

    res = api.post(f"/v1/documents/{doc_id}/reingest")
    assert res.status_code == 202, res.json()
    # Gone after the request was accepted (a file already missing is refused with a 409:
    # test_reingest_stored_file.py).
    Document.objects.get(pk=doc_id).file.delete(save=False)
    assert process_document(doc_id) == "ready"

    body = api.get(f"/v1/documents/{doc_id}").json()
    assert body["status"] == "ready"
    assert body["progress"] == 1.0
    assert body["chunk_count"] == len(before)
    assert body["error"] == (
        f"Re-ingesting failed; answers still use the previous version ({len(before)} chunks). "
        "Reason: The stored file is missing; post the document again."
    )
    assert _chunk_ids(api, doc_id) == before
    assert doc_id in _retrieved_documents(api, ds, "Lisbon office opening hours")
    assert api.get(f"/v1/datasets/{ds}/documents?status=failed").json()["data"] == []
    assert other_api.get(f"/v1/documents/{doc_id}/chunks").status_code == 404

    # Its advice works: the same content posted again replaces the missing file, is queued
    # (202, not the unchanged document with 200), and its next run clears the error.
    upload = SimpleUploadedFile("hours.txt", HOURS.encode())
    res = api.post(
        f"/v1/datasets/{ds}/documents", {"file": upload, "title": "Hours"}, format="multipart"
    )
    assert res.status_code == 202, res.json()
    assert res.json()["id"] == doc_id
    assert res.json()["status"] == "queued"
    assert process_document(doc_id) == "ready"
    body = api.get(f"/v1/documents/{doc_id}").json()
    assert body["error"] is None
    assert body["chunk_count"] == len(_chunk_ids(api, doc_id))


def test_a_pdf_over_a_lowered_page_limit_keeps_its_previous_version(api, corpus, settings):
    ds = _dataset(api)
    pdf = (corpus / "pdf" / "pdflatex-4-pages.pdf").read_bytes()
    upload = SimpleUploadedFile("four.pdf", pdf, content_type="application/pdf")
    res = api.post(f"/v1/datasets/{ds}/documents", {"file": upload}, format="multipart")
    assert res.status_code == 202, res.json()
    doc_id = res.json()["id"]
    assert process_document(doc_id) == "ready"
    before = _chunk_ids(api, doc_id)
    first = api.get(f"/v1/documents/{doc_id}").json()

    settings.INGEST_MAX_PAGES = 2  # the operator lowered the limit since
    assert api.post(f"/v1/documents/{doc_id}/reingest").status_code == 202
    assert process_document(doc_id) == "ready"

    body = api.get(f"/v1/documents/{doc_id}").json()
    assert body["status"] == "ready"
    assert body["error"] == (
        f"Re-ingesting failed; answers still use the previous version ({len(before)} chunks). "
        "Reason: The PDF has 4 pages, more than the 2-page limit; split it into smaller files."
    )
    assert body["page_count"] == first["page_count"] == 4
    assert body["processed_at"] == first["processed_at"]  # when the version in use was made
    assert _chunk_ids(api, doc_id) == before
    assert doc_id in _retrieved_documents(api, ds, "what a printed text will look like")


def test_a_first_ingestion_that_fails_is_failed_without_chunks(api):
    ds = _dataset(api)
    res = api.post(f"/v1/datasets/{ds}/documents", {"text": HOURS, "title": "Hours"}, format="json")
    doc_id = res.json()["id"]
    Document.objects.get(pk=doc_id).file.delete(save=False)
    assert process_document(doc_id) == "failed"
    body = api.get(f"/v1/documents/{doc_id}").json()
    assert body["status"] == "failed"
    assert body["error"] == "The stored file is missing; post the document again."
    assert _chunk_ids(api, doc_id) == []
    assert doc_id not in _retrieved_documents(api, ds, "Lisbon office opening hours")
