"""Every write of the datasets app: datasets and deletes here, documents in
``datasets/document_services.py`` (creators) and ``datasets/document_reingest.py`` (from a URL,
re-ingest).

The document writes (create from upload, path, text, JSON or URL; re-ingest; delete) are
re-exported below, so callers keep using ``services.document_create_from_text`` and the like.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, IntegrityError, transaction

from audit.services import audit_record, diff, snapshot
from chatbot_project.errors import APIError, Conflict, NotFound
from datasets.document_reingest import TEXT_KINDS, document_create_from_url, document_reingest
from datasets.document_services import (
    MAX_JSON_DEPTH,
    MAX_TAGS,
    delete_stored_files,
    document_create_from_json,
    document_create_from_path,
    document_create_from_text,
    document_create_from_upload,
    json_depth,
    payload_too_large,
)
from datasets.embeddings import configured_model_name
from datasets.models import EMBEDDING_DIMENSIONS, Dataset, Document
from datasets.text_search import check_language, set_chunks_language
from tenants.models import Tenant
from tenants.quotas import QuotaExceeded, enforce_quota

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_TAGS",
    "TEXT_KINDS",
    "dataset_create",
    "dataset_delete",
    "dataset_get_or_create",
    "dataset_update",
    "document_create_from_json",
    "document_create_from_path",
    "document_create_from_text",
    "document_create_from_upload",
    "document_create_from_url",
    "document_delete",
    "document_reingest",
    "json_depth",
    "payload_too_large",
]

DATASET_AUDITED = ("name", "description", "chunk_size", "chunk_overlap", "language")


def dataset_create(
    *,
    tenant: Tenant,
    name: str,
    description: str = "",
    chunk_size: int | None = None,
    chunk_overlap: int | None = None,
    language: str | None = None,
) -> Dataset:
    dataset = Dataset(
        tenant=tenant,
        name=name.strip(),
        description=description,
        embedding_model=configured_model_name(),
        embedding_dimensions=EMBEDDING_DIMENSIONS,
    )
    if chunk_size is not None:
        dataset.chunk_size = chunk_size
    if chunk_overlap is not None:
        dataset.chunk_overlap = chunk_overlap
    if language is not None:
        dataset.language = language
    with transaction.atomic():
        enforce_quota(tenant=tenant, quota="max_datasets")
        _save(dataset)
        audit_record(
            tenant=tenant, action="dataset.create", obj=dataset,
            changes=diff({}, snapshot(dataset, DATASET_AUDITED)),
        )  # fmt: skip
    return dataset


def dataset_get_or_create(
    *, tenant: Tenant, name: str, language: str | None = None
) -> tuple[Dataset, bool]:
    """``language`` applies to a dataset created here; an existing one keeps its own."""
    existing = Dataset.objects.for_tenant(tenant).filter(name=name.strip()).first()
    if existing is not None:
        return existing, False
    try:
        return dataset_create(tenant=tenant, name=name, language=language), True
    except QuotaExceeded:
        raise
    except Conflict:  # the name was taken meanwhile
        return Dataset.objects.for_tenant(tenant).get(name=name.strip()), False


@transaction.atomic
def dataset_update(*, tenant: Tenant, dataset: Dataset, **fields: Any) -> Dataset:
    assert dataset.tenant_id == tenant.id
    allowed = {"name", "description", "chunk_size", "chunk_overlap", "language"}
    unknown = set(fields) - allowed
    if unknown:
        raise APIError(f"These fields cannot be changed: {sorted(unknown)}.")
    # The row as it is now, locked: the fields apply to it as a concurrent PATCH left it (the
    # row as read put the other's fields back, and chunk_overlap was checked against a stale
    # chunk_size). FOR NO KEY UPDATE: documents being inserted into it go on.
    dataset = Dataset.objects.locked_row(tenant, dataset.pk)
    if dataset is None:
        raise NotFound()
    old_language = dataset.language
    before = snapshot(dataset, DATASET_AUDITED)
    for key, value in fields.items():
        setattr(dataset, key, value.strip() if key == "name" and isinstance(value, str) else value)
    if dataset.language != old_language:  # its chunks' vectors follow, in this transaction
        set_chunks_language(dataset.pk, check_language(dataset.language))
    _save(dataset)
    changes = diff(before, snapshot(dataset, DATASET_AUDITED))
    if changes:
        audit_record(tenant=tenant, action="dataset.update", obj=dataset, changes=changes)
    return dataset


@transaction.atomic
def dataset_delete(*, tenant: Tenant, dataset: Dataset) -> None:
    """Delete ``dataset`` with its documents and their files. Its row is locked first, so a bot
    or scope being linked to it meanwhile (``bots.selectors.datasets_by_ids(lock=True)``)
    either commits before (its link is deleted here) or finds it gone (a 400): each was a
    foreign-key violation (500) on one side or the other."""
    assert dataset.tenant_id == tenant.id
    if not Dataset.objects.select_for_update().filter(pk=dataset.pk).exists():
        return  # deleted meanwhile
    # values_list, not .only("file"): a deferred row re-read per document raised DoesNotExist
    # (500) when a concurrent request deleted one of them (found by Schemathesis).
    files = list(dataset.documents.exclude(file="").values_list("file", flat=True))
    audit_record(
        tenant=tenant, action="dataset.delete", obj=dataset, changes={"documents": len(files)}
    )
    dataset.delete()
    transaction.on_commit(lambda: delete_stored_files(files))


def document_delete(*, tenant: Tenant, document: Document) -> None:
    """Delete ``document`` with its chunks and stored file. Its row is locked first: a worker
    writing its chunks holds it, so the delete waits for that commit and deletes those chunks
    too (read before it, they were left referencing the deleted row: an IntegrityError, 500)."""
    assert document.tenant_id == tenant.id
    name = document.file.name if document.file else ""
    with transaction.atomic():
        if Document.objects.select_for_update().filter(pk=document.pk).exists():
            audit_record(
                tenant=tenant, action="document.delete", obj=document, label=document.title,
                changes={"dataset": str(document.dataset_id)},
            )  # fmt: skip
        document.delete()  # its chunks cascade in the same transaction
    if name:
        transaction.on_commit(lambda: delete_stored_files([name]))


def _save(dataset: Dataset) -> None:
    """Validate (400) and save the dataset; a name taken in the tenant is a 409."""
    _validate_dataset(dataset)
    adding = dataset._state.adding
    try:
        with transaction.atomic():
            # An update never inserts: a PATCH racing a DELETE saved the deleted row back.
            dataset.save(force_update=not adding)
    except IntegrityError:
        raise Conflict(f"A dataset named {dataset.name!r} already exists in this tenant.") from None
    except DatabaseError as exc:
        if adding or type(exc) is not DatabaseError:  # (OperationalError & co: a 503)
            raise
        raise NotFound() from None  # deleted meanwhile: the forced update matched no row


def _validate_dataset(dataset: Dataset) -> None:
    from django.core.exceptions import ValidationError

    if not dataset.name:
        raise APIError("name is required.")
    try:
        dataset.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise APIError(f"{field}: {messages[0]}") from None
    if dataset.chunk_overlap >= dataset.chunk_size:
        raise APIError("chunk_overlap must be smaller than chunk_size.")
    if dataset._state.adding:  # (a change is checked by dataset_update: a PATCH of the name
        check_language(dataset.language)  # works while a dropped language is being replaced)
