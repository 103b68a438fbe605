"""A document (or its dataset) deleted while the worker writes its chunks.

Repro (helper-68): the worker's last step (old chunks out, new ones in, status ready) is one
transaction holding the document's row lock. A DELETE arriving meanwhile deleted the chunks it
could see (not the new, uncommitted ones), then waited for the document's row; once the worker
committed, it deleted the document and failed at its own commit: the new chunks still referenced
it (foreign keys are checked at commit), an IntegrityError, a 500. The dataset's DELETE and the
worker deadlocked instead (it held the dataset's row, the worker's commit needed it to check
the chunks' foreign key), and PostgreSQL killed one of them.

`manage.py delete_tenant` deadlocked the same way (the tenant's row). Now the worker takes the
tenant's and the dataset's rows (FOR KEY SHARE) before the document's, and the deletes lock the
rows they delete before reading what hangs on them: whichever comes second waits for the first
to commit and then sees its rows.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from datasets.ingestion import process_document
from datasets.models import Chunk, Dataset, Document

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paused_write(monkeypatch):
    """The worker stops inside its write transaction, after inserting the chunks."""
    inserted, go = threading.Event(), threading.Event()
    real = Chunk.objects.bulk_create

    def bulk_create(rows, *args, **kwargs):
        out = real(rows, *args, **kwargs)
        inserted.set()
        assert go.wait(30)
        return out

    monkeypatch.setattr(Chunk.objects, "bulk_create", bulk_create)
    return inserted, go


def _thread(fn, results, key):
    def run():
        try:
            results[key] = fn()
        except Exception as exc:  # reported by the test
            results[key] = exc
        finally:
            connections.close_all()

    t = threading.Thread(target=run)
    t.start()
    return t


def _race(api, paused_write, delete_path, delete=None):
    inserted, go = paused_write
    ds = api.post("/v1/datasets", {"name": "Race"}, format="json").json()
    res = api.post(
        f"/v1/datasets/{ds['id']}/documents",
        {"text": "Returns are accepted within 30 days.", "title": "Returns"},
        format="json",
    )
    doc_id = res.json()["id"]
    results: dict = {}
    worker = _thread(lambda: process_document(doc_id, use_lease=False), results, "worker")
    assert inserted.wait(30)
    path = delete_path.format(doc=doc_id, ds=ds["id"])
    deleting = _thread(delete or (lambda: api.delete(path)), results, "delete")
    deleting.join(1.5)  # it waits for the worker's transaction (or deadlocks with it)
    go.set()
    worker.join(30)
    deleting.join(30)
    return doc_id, ds["id"], results


def test_a_document_deleted_while_its_chunks_are_written(api, paused_write):
    doc_id, _, results = _race(api, paused_write, "/v1/documents/{doc}")
    assert results["worker"] == "ready"
    assert results["delete"].status_code == 204, results["delete"].content
    assert not Document.objects.filter(pk=doc_id).exists()
    assert not Chunk.objects.filter(document_id=doc_id).exists()


def test_a_dataset_deleted_while_a_document_s_chunks_are_written(api, paused_write):
    doc_id, ds_id, results = _race(api, paused_write, "/v1/datasets/{ds}")
    assert results["worker"] == "ready", results["worker"]
    assert results["delete"].status_code == 204, results["delete"].content
    assert not Dataset.objects.filter(pk=ds_id).exists()
    assert not Document.objects.filter(pk=doc_id).exists()
    assert not Chunk.objects.filter(dataset_id=ds_id).exists()


def test_a_tenant_deleted_while_a_document_s_chunks_are_written(api, tenant, paused_write):
    from tenants.models import Tenant
    from tenants.services import tenant_delete

    doc_id, ds_id, results = _race(api, paused_write, "", lambda: tenant_delete(tenant=tenant))
    assert results["worker"] == "ready", results["worker"]
    assert results["delete"] is None, results["delete"]
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert not Document.objects.filter(pk=doc_id).exists()
    assert not Chunk.objects.filter(dataset_id=ds_id).exists()
