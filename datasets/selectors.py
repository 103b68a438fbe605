"""Every read of the datasets app; the tenant comes first and scopes every query."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from chatbot_project.errors import NotFound
from datasets.models import Chunk, Dataset, Document
from tenants.models import Tenant


def readable_dataset_ids(*, context: Any) -> frozenset | None:
    """The datasets a key limited to certain bots or scopes may see and manage: its bots'
    datasets, and of those only the ones its scopes read (a scope listing none, never limited,
    reads any of the bot's). None = no limit (an unlimited key, a signed-in user). Outside them
    a dataset and its documents are a 404 for that key, as another bot is: a key meant for one
    bot used to list, and with ``write`` delete, every dataset of the tenant."""
    from bots.models import Bot, Scope

    if context is None or (context.allowed_bot_ids is None and context.allowed_scope_ids is None):
        return None
    ids: set | None = None
    if context.allowed_bot_ids is not None:  # (the M2M has no reverse name: its table)
        ids = set(
            Bot.datasets.through.objects.filter(
                bot_id__in=context.allowed_bot_ids, bot__tenant_id=context.tenant.id
            ).values_list("dataset_id", flat=True)
        )
    if context.allowed_scope_ids is not None:
        scopes = Scope.objects.for_tenant(context.tenant).filter(id__in=context.allowed_scope_ids)
        read: set = set()
        for scope in scopes.prefetch_related("datasets"):
            listed = {d.id for d in scope.datasets.all()}
            if not listed and not scope.limited_to_datasets:
                read = None  # type: ignore[assignment]
                break
            read |= listed
        if read is not None:
            ids = read if ids is None else ids & read
    return None if ids is None else frozenset(ids)  # (None: scopes that read any, no bot limit)


def dataset_list(*, tenant: Tenant, context: Any = None, counted: bool = True) -> QuerySet[Dataset]:
    """``counted``: with ``document_count`` (what the dataset's JSON shows)."""
    qs = Dataset.objects.for_tenant(tenant)
    if counted:
        qs = qs.annotate(document_count=Count("documents"))
    readable = readable_dataset_ids(context=context)
    return qs if readable is None else qs.filter(id__in=readable)


def dataset_get(
    *, tenant: Tenant, dataset_id: Any, context: Any = None, counted: bool = True
) -> Dataset:
    """``counted=False`` for a lookup that shows no count (a dataset's documents, uploads):
    counting a big dataset's documents on each of those requests was work thrown away."""
    qs = dataset_list(tenant=tenant, context=context, counted=counted)
    dataset = qs.filter(pk=dataset_id).first()
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


def document_get(*, tenant: Tenant, document_id: Any, context: Any = None) -> Document:
    qs = Document.objects.for_tenant(tenant).filter(pk=document_id)
    readable = readable_dataset_ids(context=context)
    document = (qs if readable is None else qs.filter(dataset_id__in=readable)).first()
    if document is None:
        raise NotFound()
    return document


def chunk_list(*, tenant: Tenant, document: Document) -> QuerySet[Chunk]:
    return (
        Chunk.objects.for_tenant(tenant)
        .filter(document=document)
        .defer("embedding", "search_vector")
    )
