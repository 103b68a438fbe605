"""Tenant quotas on documents: quotas.max_documents and quotas.max_storage_mb (the sum of the
stored files' sizes, Document.size_bytes) refuse a new document with a 409 before its file is
stored; the same content posted again (deduplicated, or a failed one re-queued) never counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.models import Document
from datasets.tests.factories import DatasetFactory, DocumentFactory
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def _quotas(tenant, **quotas):
    Tenant.objects.filter(pk=tenant.pk).update(quotas=quotas)


def _text(api, dataset, text):
    body = {"text": text, "title": text[:20]}
    return api.post(f"/v1/datasets/{dataset.id}/documents", body, format="json")


def _upload(api, dataset, name, size):
    content = (name.encode() + b" lorem ipsum dolor\n") * (size // (len(name) + 19) + 1)
    upload = SimpleUploadedFile(f"{name}.txt", content[:size], content_type="text/plain")
    return api.post(f"/v1/datasets/{dataset.id}/documents", {"file": upload}, format="multipart")


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_document_quota_is_a_409_and_stores_no_file(api, tenant):
    dataset = DatasetFactory(tenant=tenant)
    _quotas(tenant, max_documents=1)
    assert _text(api, dataset, "First document.").status_code == 202
    res = _text(api, dataset, "Second document.")
    assert res.status_code == 409, res.content
    assert res.json()["error"] == {
        "type": "conflict",
        "message": "This tenant has reached its quota of 1 document (quotas.max_documents); "
        "delete one or raise the quota.",
        "details": {"quota": "max_documents", "limit": 1},
    }
    assert Document.objects.for_tenant(tenant).count() == 1
    assert len(_stored_files()) == 1


def test_the_same_content_again_does_not_count(api, tenant):
    dataset = DatasetFactory(tenant=tenant)
    _quotas(tenant, max_documents=1)
    first = _text(api, dataset, "Returns within 30 days.")
    assert first.status_code == 202
    again = _text(api, dataset, "Returns within 30 days.")  # deduplicated: the existing one
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    # A failed one posted again is re-queued (the same document), not a new one.
    Document.objects.filter(pk=first.json()["id"]).update(status=Document.Status.FAILED)
    revived = _text(api, dataset, "Returns within 30 days.")
    assert (revived.status_code, revived.json()["id"]) == (202, first.json()["id"])
    assert _text(api, dataset, "Something else.").status_code == 409


def test_storage_quota_counts_stored_bytes(api, tenant):
    dataset = DatasetFactory(tenant=tenant)
    _quotas(tenant, max_storage_mb=1)
    assert _upload(api, dataset, "a", 600 * 1024).status_code == 202
    res = _upload(api, dataset, "b", 600 * 1024)
    assert res.status_code == 409, res.content
    error = res.json()["error"]
    assert error["type"] == "conflict"
    assert error["message"] == (
        "This document (0.59 MB) would take this tenant over its storage quota of 1 MB "
        "(quotas.max_storage_mb; 0.59 MB stored); delete documents or raise the quota."
    )
    assert error["details"] == {
        "quota": "max_storage_mb", "limit": 1,
        "stored_bytes": 600 * 1024, "document_bytes": 600 * 1024,
    }  # fmt: skip
    assert len(_stored_files()) == 1
    assert _upload(api, dataset, "c", 424 * 1024).status_code == 202  # up to 1 MB exactly
    assert _text(api, dataset, "One byte too many.").status_code == 409


def test_storage_quota_zero_refuses_any_document(api, tenant):
    dataset = DatasetFactory(tenant=tenant)
    _quotas(tenant, max_storage_mb=0)
    res = _text(api, dataset, "x")
    assert res.status_code == 409
    assert res.json()["error"]["details"]["quota"] == "max_storage_mb"
    assert not Document.objects.exists()


def test_another_tenants_documents_never_count(api, other_api, tenant, other_tenant):
    theirs = DatasetFactory(tenant=other_tenant)
    for _ in range(3):
        DocumentFactory(dataset=theirs, size_bytes=5 * MB)
    dataset = DatasetFactory(tenant=tenant)
    _quotas(tenant, max_documents=1, max_storage_mb=1)
    assert _text(api, dataset, "Mine.").status_code == 202
    assert _text(api, dataset, "Mine too.").status_code == 409
    # This tenant's quota does not stop the other one either.
    assert _text(other_api, theirs, "Theirs.").status_code == 202


def test_null_quotas_are_no_limit(api, tenant):
    dataset = DatasetFactory(tenant=tenant)
    _quotas(tenant, max_documents=None, max_storage_mb=None, max_datasets=0)
    for n in range(3):
        assert _text(api, dataset, f"Document {n}.").status_code == 202
    assert api.post("/v1/datasets", {"name": "More"}, format="json").status_code == 409


def test_service_refuses_before_storing(tenant, tmp_path):
    """Management commands and scripts go through the same services."""
    from chatbot_project.errors import Conflict
    from datasets.services import document_create_from_path

    dataset = DatasetFactory(tenant=tenant)
    _quotas(tenant, max_documents=0)
    path = tmp_path / "note.md"
    path.write_text("# Note\n\ntext")
    with pytest.raises(Conflict, match=r"quota of 0 documents"):
        document_create_from_path(tenant=tenant, dataset=dataset, path=path, enqueue=False)
    assert not _stored_files()
