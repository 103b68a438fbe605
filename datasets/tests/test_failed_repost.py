"""A failed document tells the user to post it again: posting the same content again re-queues
that document with the new upload instead of answering with the failed one."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.ingestion import process_document
from datasets.models import Chunk, Document

pytestmark = pytest.mark.django_db

CONTENT = b"# Returns\n\nItems can be returned within 30 days with the receipt.\n"


def _post(api, dataset_id, **extra):
    upload = SimpleUploadedFile("returns.md", CONTENT, content_type="text/markdown")
    return api.post(
        f"/v1/datasets/{dataset_id}/documents", {"file": upload, **extra}, format="multipart"
    )


def _dataset(api) -> str:
    res = api.post("/v1/datasets", {"name": "Policies"}, format="json")
    assert res.status_code == 201, res.json()
    return res.json()["id"]


def test_reposting_a_failed_document_requeues_it_with_the_new_upload(
    api, django_capture_on_commit_callbacks
):
    dataset_id = _dataset(api)
    res = _post(api, dataset_id)
    assert res.status_code == 202, res.json()
    doc_id = res.json()["id"]
    queued = _post(api, dataset_id)  # a queued duplicate is answered as before
    assert (queued.status_code, queued.json()["id"]) == (200, doc_id)
    assert process_document(doc_id) == "ready"
    lost = Document.objects.get(pk=doc_id).file
    assert api.post(f"/v1/documents/{doc_id}/reingest").status_code == 202
    Path(lost.path).unlink()  # the stored file went missing (before: test_reingest_stored_file)
    # (the failed re-ingest keeps the previous version in use: test_failed_reingest.py)
    assert process_document(doc_id) == "ready"
    failed = api.get(f"/v1/documents/{doc_id}").json()
    assert failed["error"].endswith("Reason: The stored file is missing; post the document again.")

    with django_capture_on_commit_callbacks() as callbacks:
        res = _post(api, dataset_id, title="Returns policy", tags='["policy"]')
    assert res.status_code == 202, res.json()
    body = res.json()
    assert body["id"] == doc_id  # the same document, not a copy
    assert body["status"] == "queued"
    assert body["error"] is None
    assert body["title"] == "Returns policy"
    assert body["tags"] == ["policy"]
    assert len(callbacks) >= 1  # ingestion scheduled
    document = Document.objects.get(pk=doc_id)
    assert document.file.name != lost.name
    assert Path(document.file.path).read_bytes() == CONTENT
    assert Document.objects.filter(dataset_id=dataset_id).count() == 1

    assert process_document(doc_id) == "ready"
    assert Chunk.objects.filter(document_id=doc_id).exists()
    # Once ready, the same content posted again is the existing document, as before.
    again = _post(api, dataset_id)
    assert again.status_code == 200
    assert again.json()["id"] == doc_id
    assert again.json()["status"] == "ready"


def test_another_tenants_repost_leaves_a_failed_document_alone(api, other_api):
    dataset_id = _dataset(api)
    doc_id = _post(api, dataset_id).json()["id"]
    Document.objects.filter(pk=doc_id).update(status=Document.Status.FAILED, error="Broken.")
    other = other_api.post("/v1/datasets", {"name": "Policies"}, format="json").json()["id"]
    res = _post(other_api, other)
    assert res.status_code == 202
    assert res.json()["id"] != doc_id
    assert Document.objects.get(pk=doc_id).status == Document.Status.FAILED
