"""Chunks deleted in the admin leave their documents' ``chunk_count`` right.

Repro (admin review): deleting chunks on the chunk changelist ("Delete selected") or on a
chunk's delete page removed the rows and left ``chunk_count`` as ingestion set it: the
document's detail (GET /v1/documents/{id}) and the document changelist still said 3 chunks
where 1 was left, and a queued re-ingest of a document whose chunks were all deleted still
counted as readable (``chunk_count > 0``).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasets.models import Chunk, Document
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory
from tenants.tests.admin_support import admin_url

pytestmark = pytest.mark.django_db


def _document(dataset, title: str, chunks: int) -> tuple[Document, list[Chunk]]:
    doc = DocumentFactory(dataset=dataset, title=title, status="ready", chunk_count=chunks)
    return doc, [ChunkFactory(document=doc, index=i) for i in range(chunks)]


@pytest.fixture
def docs(tenant):
    dataset = DatasetFactory(tenant=tenant)
    return [_document(dataset, title, n) for title, n in (("a", 3), ("b", 2), ("c", 2))]


def _counts(*documents) -> list[int]:
    return [Document.objects.get(pk=d.pk).chunk_count for d in documents]


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_delete_selected_chunks_recounts_each_document(
    request, who, docs, api, django_capture_on_commit_callbacks
):
    client = request.getfixturevalue(who)
    (a, a_chunks), (b, b_chunks), (c, _c_chunks) = docs
    chosen = [*a_chunks[:2], *b_chunks]  # a: 3 -> 1, b: 2 -> 0, c untouched
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as ctx,
    ):
        res = client.post(
            "/admin/datasets/chunk/",
            {
                "action": "delete_selected",
                "_selected_action": [str(ch.pk) for ch in chosen],
                "post": "yes",
            },
        )
    assert res.status_code == 302
    assert Chunk.objects.filter(pk__in=[ch.pk for ch in chosen]).count() == 0
    assert _counts(a, b, c) == [1, 0, 2]
    # One UPDATE for all the documents (not one per chunk or per document).
    updates = [q for q in ctx.captured_queries if q["sql"].startswith('UPDATE "datasets_document"')]
    assert len(updates) == 1, updates
    # What the API says.
    assert api.get(f"/v1/documents/{a.pk}").json()["chunk_count"] == 1
    assert api.get(f"/v1/documents/{b.pk}").json()["chunk_count"] == 0


def test_the_delete_page_of_one_chunk_recounts_its_document(
    staff, docs, api, django_capture_on_commit_callbacks
):
    (a, a_chunks), (b, _), _ = docs
    with django_capture_on_commit_callbacks(execute=True):
        res = staff.post(admin_url(a_chunks[1], "delete"), {"post": "yes"})
    assert res.status_code == 302
    assert _counts(a, b) == [2, 2]
    assert api.get(f"/v1/documents/{a.pk}").json()["chunk_count"] == 2


def test_another_tenants_chunks_are_neither_deleted_nor_recounted(staff, docs, other_tenant):
    (a, a_chunks), _, _ = docs
    theirs, their_chunks = _document(DatasetFactory(tenant=other_tenant), "theirs", 2)
    res = staff.post(
        "/admin/datasets/chunk/",
        {
            "action": "delete_selected",
            "_selected_action": [str(a_chunks[0].pk), str(their_chunks[0].pk)],
            "post": "yes",
        },
    )
    assert res.status_code == 302
    assert _counts(a, theirs) == [2, 2]
    assert Chunk.objects.filter(document=theirs).count() == 2
