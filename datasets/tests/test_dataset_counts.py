"""A dataset's documents are listed (and uploaded) without counting them: the dataset lookup
of those routes counted all its documents (a join grouped by dataset) on every request, for a
``document_count`` it never showed (100,000 documents: ~40 ms a page)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasets.models import Document
from datasets.tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def _documents(dataset, n: int) -> None:
    Document.objects.bulk_create(
        Document(tenant=dataset.tenant, dataset=dataset, title=f"d{i}", content_hash=f"{i:064x}",
                 source_type=Document.Source.TEXT, status=Document.Status.READY)
        for i in range(n)
    )  # fmt: skip


def test_a_datasets_documents_are_listed_without_counting_them(api, tenant, other_api):
    dataset = DatasetFactory(tenant=tenant)
    _documents(dataset, 500)
    detail = api.get(f"/v1/datasets/{dataset.pk}").json()
    assert detail["document_count"] == 500
    with CaptureQueriesContext(connection) as ctx:
        res = api.get(f"/v1/datasets/{dataset.pk}/documents?limit=5")
    assert res.status_code == 200
    assert len(res.json()["data"]) == 5
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    # (and another tenant's dataset is still a 404 there)
    assert other_api.get(f"/v1/datasets/{dataset.pk}/documents").status_code == 404
