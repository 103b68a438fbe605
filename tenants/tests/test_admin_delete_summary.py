"""The admin's delete confirmation counts a big cascade instead of listing every row.

Django's page loaded and linked each object a delete takes along: a dataset with 10,000 chunks
took 11 s (a tenant with 10,000 messages and chunks 29 s) before anything was deleted.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots.tests.factories import BotFactory, ScopeFactory
from datasets.models import Chunk, Dataset
from datasets.tests.factories import DatasetFactory, DocumentFactory
from tenants.admin_deletes import LIST_AT_MOST
from tenants.tests.admin_support import admin_url, staff_client

pytestmark = pytest.mark.django_db

BIG = LIST_AT_MOST + 50


def _chunks(document, n: int) -> None:
    Chunk.objects.bulk_create(
        Chunk(tenant=document.tenant, dataset=document.dataset, document=document, index=i,
              text=f"chunk {i}", token_count=2, embedding=[0.01] * 384)
        for i in range(n)
    )  # fmt: skip


def _page(client, url: str):
    with CaptureQueriesContext(connection) as ctx:
        res = client.get(url)
    assert res.status_code == 200
    return res, len(ctx.captured_queries)


def test_a_big_cascade_is_counted_not_listed(superuser, tenant):
    dataset = DatasetFactory(tenant=tenant)
    first = DocumentFactory(dataset=dataset, title="first")
    _chunks(first, 3)
    small, small_queries = _page(superuser, admin_url(dataset, "delete"))
    assert small.content.count(b"Chunk: <a href") == 3  # small: every row, as before
    _chunks(DocumentFactory(dataset=dataset, title="second"), BIG)
    res, queries = _page(superuser, admin_url(dataset, "delete"))
    assert dict(res.context["model_count"]) == {"datasets": 1, "documents": 2, "chunks": BIG + 3}
    assert res.content.count(b"Chunk: <a href") == 0
    assert [str(x) for x in res.context["deleted_objects"]] == [
        f'Dataset: <a href="{admin_url(dataset)}">{dataset.name}</a>'
    ]
    assert not res.context["perms_lacking"]
    assert not res.context["protected"]
    assert queries <= small_queries + 2
    # Deleting still deletes everything (through the service).
    assert superuser.post(admin_url(dataset, "delete"), {"post": "yes"}).status_code == 302
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    assert not Chunk.objects.filter(dataset_id=dataset.pk).exists()


def test_the_tenant_page_counts_each_row_once(superuser, tenant, other_tenant):
    # A chunk is reached through its tenant, dataset and document: counted once.
    document = DocumentFactory(dataset=DatasetFactory(tenant=tenant))
    _chunks(document, BIG)
    _chunks(DocumentFactory(dataset=DatasetFactory(tenant=other_tenant)), 5)
    res, _ = _page(superuser, f"/admin/tenants/tenant/{tenant.pk}/delete/")
    counts = dict(res.context["model_count"])
    assert counts["chunks"] == BIG
    assert counts["documents"] == 1
    assert counts["tenants"] == 1


def test_a_missing_delete_permission_is_still_named(client, tenant):
    from django.contrib.auth.models import Permission

    staff = staff_client(client, {tenant: "owner"})
    staff.staff_user.user_permissions.remove(Permission.objects.get(codename="delete_chunk"))
    dataset = DatasetFactory(tenant=tenant)
    _chunks(DocumentFactory(dataset=dataset), BIG)
    res, _ = _page(staff, admin_url(dataset, "delete"))
    assert "chunk" in res.context["perms_lacking"]
    assert staff.post(admin_url(dataset, "delete"), {"post": "yes"}).status_code == 403
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_a_refused_delete_names_what_protects_it(superuser, tenant):
    scope = ScopeFactory(tenant=tenant)
    bots = [BotFactory(tenant=tenant, default_scope=scope) for _ in range(2)]
    res, _ = _page(superuser, admin_url(scope, "delete"))
    protected = " ".join(str(x) for x in res.context["protected"])
    assert all(bot.slug in protected for bot in bots)
