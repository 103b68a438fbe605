"""A re-ingest checks the stored file against the document's `content_hash` (SHA-256, as at
upload). Before, a missing file was only found by the worker, and a changed or damaged one was
never noticed: its bytes were re-ingested as if they were the posted content. Now a request to
re-ingest such a document is a 409 naming the problem and leaves the document as it was; posting
the same content again restores the file. A file that goes bad after the request is caught by
the worker, which records why (a ready document keeps its previous version)."""

from __future__ import annotations

from pathlib import Path

import pytest

from datasets.ingestion import process_document
from datasets.models import Document

pytestmark = pytest.mark.django_db

HOURS = "Opening hours of the Porto office: weekdays from 9 to 17, closed on Saturdays."
CHANGED = "The stored file no longer matches the document's content_hash (it was changed or damaged on disk)"  # noqa: E501


def _post(api, dataset_id: str) -> tuple[int, dict]:
    res = api.post(
        f"/v1/datasets/{dataset_id}/documents", {"text": HOURS, "title": "Hours"}, format="json"
    )
    return res.status_code, res.json()


def _ready_document(api) -> tuple[str, str]:
    ds = api.post("/v1/datasets", {"name": "Stored"}, format="json").json()["id"]
    code, body = _post(api, ds)
    assert code == 202, body
    assert process_document(body["id"]) == "ready"
    return ds, body["id"]


def _stored_path(doc_id: str) -> Path:
    return Path(Document.objects.get(pk=doc_id).file.path)


def _chunk_ids(api, doc_id: str) -> list[str]:
    return [c["id"] for c in api.get(f"/v1/documents/{doc_id}/chunks").json()["data"]]


def test_reingest_with_the_stored_file_missing_is_409_and_reposting_restores_it(api, other_api):
    ds, doc_id = _ready_document(api)
    before = api.get(f"/v1/documents/{doc_id}").json()
    chunks = _chunk_ids(api, doc_id)
    _stored_path(doc_id).unlink()

    res = api.post(f"/v1/documents/{doc_id}/reingest")
    assert res.status_code == 409, res.json()
    assert res.json()["error"] == {
        "type": "conflict",
        "message": "The stored file is missing, so this document cannot be re-ingested; post the "
        "same content again to restore it (then re-ingest it).",
        "details": {"stored_file": "missing"},
    }
    assert api.get(f"/v1/documents/{doc_id}").json() == before  # unchanged, still answering
    assert _chunk_ids(api, doc_id) == chunks
    assert other_api.post(f"/v1/documents/{doc_id}/reingest").status_code == 404

    # The advice works: the same content posted again is the same document (200, unchanged),
    # now with its file back, and the re-ingest goes through.
    code, body = _post(api, ds)
    assert code == 200, body
    assert body == before
    assert _stored_path(doc_id).read_text() == HOURS
    res = api.post(f"/v1/documents/{doc_id}/reingest")
    assert res.status_code == 202, res.json()
    assert process_document(doc_id) == "ready"
    assert api.get(f"/v1/documents/{doc_id}").json()["error"] is None


def test_reingest_with_a_changed_stored_file_is_409(api, django_capture_on_commit_callbacks):
    ds, doc_id = _ready_document(api)
    before = api.get(f"/v1/documents/{doc_id}").json()
    path = _stored_path(doc_id)
    path.write_text(HOURS.replace("9 to 17", "9 to 11"))  # same size, other content

    res = api.post(f"/v1/documents/{doc_id}/reingest")
    assert res.status_code == 409, res.json()
    assert res.json()["error"]["details"] == {"stored_file": "changed"}
    assert res.json()["error"]["message"].startswith(f"{CHANGED}, so this document cannot be")
    assert api.get(f"/v1/documents/{doc_id}").json() == before

    with django_capture_on_commit_callbacks(execute=True):
        code, _ = _post(api, ds)
    assert code == 200
    assert not path.exists()  # the changed copy is removed
    assert _stored_path(doc_id).read_text() == HOURS
    assert api.post(f"/v1/documents/{doc_id}/reingest").status_code == 202


def test_a_file_changed_after_the_request_fails_in_the_worker_keeping_the_previous_version(api):
    _, doc_id = _ready_document(api)
    chunks = _chunk_ids(api, doc_id)
    assert api.post(f"/v1/documents/{doc_id}/reingest").status_code == 202
    _stored_path(doc_id).write_text("Something else entirely.")

    assert process_document(doc_id) == "ready"
    body = api.get(f"/v1/documents/{doc_id}").json()
    assert body["error"] == (
        f"Re-ingesting failed; answers still use the previous version ({len(chunks)} chunks). "
        f"Reason: {CHANGED}; post the document again."
    )
    assert _chunk_ids(api, doc_id) == chunks


def test_a_first_ingestion_of_a_changed_file_fails_saying_why(api):
    ds = api.post("/v1/datasets", {"name": "Stored"}, format="json").json()["id"]
    code, body = _post(api, ds)
    assert code == 202
    _stored_path(body["id"]).write_text("Not what was posted.")
    assert process_document(body["id"]) == "failed"
    doc = api.get(f"/v1/documents/{body['id']}").json()
    assert doc["error"] == f"{CHANGED}; post the document again."
    assert _chunk_ids(api, body["id"]) == []

    # A failed document refused a re-ingest is told that posting it again re-ingests it.
    res = api.post(f"/v1/documents/{body['id']}/reingest")
    assert res.status_code == 409
    assert res.json()["error"]["message"].endswith("(that re-ingests it).")
    code, again = _post(api, ds)
    assert (code, again["id"], again["status"]) == (202, body["id"], "queued")
    assert process_document(body["id"]) == "ready"
