"""Every read of the datasets app; the tenant comes first and scopes every query."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from chatbot_project.errors import NotFound
from datasets.models import Chunk, Dataset, Document
from tenants.models import Tenant


def dataset_list(*, tenant: Tenant) -> QuerySet[Dataset]:
    return Dataset.objects.for_tenant(tenant).annotate(document_count=Count("documents"))


def dataset_get(*, tenant: Tenant, dataset_id: Any) -> Dataset:
    dataset = dataset_list(tenant=tenant).filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound()
    return dataset


def dataset_get_by_name(*, tenant: Tenant, name: str) -> Dataset | None:
    return Dataset.objects.for_tenant(tenant).filter(name=name).first()


def document_list(
    *, tenant: Tenant, dataset: Dataset, status: str | None = None
) -> QuerySet[Document]:
    qs = Document.objects.for_tenant(tenant).filter(dataset=dataset)
    if status:
        qs = qs.filter(status=status)
    return qs


def document_get(*, tenant: Tenant, document_id: Any) -> Document:
    document = Document.objects.for_tenant(tenant).filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    return document


def chunk_list(*, tenant: Tenant, document: Document) -> QuerySet[Chunk]:
    return (
        Chunk.objects.for_tenant(tenant)
        .filter(document=document)
        .defer("embedding", "search_vector")
    )
