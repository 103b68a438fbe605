"""Writes of documents: create (upload, local file, text, JSON). Deleting is in
``datasets/services.py``; creating from a URL and re-ingesting are in
``datasets/document_reingest.py`` (they use the helpers here).

Callers reach these through ``datasets.services``, which re-exports them. Creators return
``(document, created)``: identical content posted again to the same dataset returns the existing
document (content hash, SHA-256 of the stored bytes), unless that one failed: then it takes the new
upload and is queued again (``created`` is True: it is ingested as if new, same id). Each creator
only checks its input and turns it into a file; ``_create_document`` does the rest for all of
them: stores the file under a generated name (``Document.file``), dedups, and schedules ingestion
with ``transaction.on_commit`` so the worker never looks for a row that isn't there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q

from audit.services import snapshot
from chatbot_project.errors import APIError, NotFound
from datasets.document_edit import document_retry_record
from datasets.document_input import (  # noqa: F401 - re-exported via datasets.services
    MAX_JSON_DEPTH,
    MAX_TAGS,
    _looks_markdown,
    clean_metadata,
    clean_tags,
    json_depth,
    payload_too_large,
)
from datasets.filetypes import EXTENSION_BY_KIND, MIME_BY_KIND, sniff, text_kind
from datasets.models import Chunk, Dataset, Document
from tenants.models import Tenant
from tenants.quotas import QuotaExceeded, enforce_document_quota

log = logging.getLogger("chatbot.datasets")


# --------------------------------------------------------------------------- creators
def document_create_from_upload(
    *,
    tenant: Tenant,
    dataset: Dataset,
    uploaded_file: Any,
    title: str = "",
    tags: Iterable[str] | None = (),
    metadata: Any = None,
) -> tuple[Document, bool]:
    """An uploaded file (a Django UploadedFile, or any object with ``read()`` and ``name``)."""
    name = Path(getattr(uploaded_file, "name", "") or "upload").name
    blocks = (
        uploaded_file.chunks()
        if hasattr(uploaded_file, "chunks")
        else iter(lambda: uploaded_file.read(1 << 20), b"")
    )
    with _staging() as path:
        size = 0
        with open(path, "wb") as out:
            for block in blocks:
                size += len(block)
                _check_size(size)
                out.write(block)
        return _create_document(
            tenant=tenant, dataset=dataset, path=path, source_type=Document.Source.FILE,
            title=title or Path(name).stem, tags=tags, metadata=metadata, original_filename=name,
        )  # fmt: skip


def document_create_from_path(
    *,
    tenant: Tenant,
    dataset: Dataset,
    path: Path,
    title: str = "",
    tags: Iterable[str] | None = (),
    metadata: Any = None,
    enqueue: bool = True,
) -> tuple[Document, bool]:
    """A local file (management commands): same checks as an upload.

    ``enqueue=False`` leaves the document ``queued`` for the caller to process in-process
    (``seed_demo``, ``ingest --sync``).
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise APIError(
            f"The file cannot be read ({reason}); check that it exists and its permissions."
        ) from None
    _check_size(size)
    return _create_document(
        tenant=tenant, dataset=dataset, path=path, source_type=Document.Source.FILE,
        title=title or path.stem, tags=tags, metadata=metadata, original_filename=path.name,
        enqueue=enqueue,
    )  # fmt: skip


def document_create_from_text(
    *,
    tenant: Tenant,
    dataset: Dataset,
    text: str,
    title: str = "",
    tags: Iterable[str] | None = (),
    metadata: Any = None,
    kind: str = "text",
) -> tuple[Document, bool]:
    """Text posted as a string; ``kind="text"`` becomes ``markdown`` when it reads as Markdown."""
    if not isinstance(text, str) or not text.strip():
        raise APIError("text must be a non-empty string.")
    data = text.encode("utf-8")
    _check_size(len(data))
    if kind == "text" and text_kind(text[:2048], "x.md") == "markdown" and _looks_markdown(text):
        kind = "markdown"
    return _create_from_bytes(
        data, tenant=tenant, dataset=dataset, kind=kind, source_type=Document.Source.TEXT,
        title=title, tags=tags, metadata=metadata,
    )  # fmt: skip


def document_create_from_json(
    *,
    tenant: Tenant,
    dataset: Dataset,
    data: Any,
    title: str = "",
    tags: Iterable[str] | None = (),
    metadata: Any = None,
) -> tuple[Document, bool]:
    """A parsed JSON value, stored as indented JSON with sorted keys."""
    if data is None:
        raise APIError("json must be a JSON value.")
    if data in ({}, [], "") or (isinstance(data, str) and not data.strip()):  # (not: 202, failed)
        raise APIError("json is empty: send a value with something in it.")
    if json_depth(data) > MAX_JSON_DEPTH:
        raise APIError(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels; flatten it first.")
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    _check_size(len(body))  # bytes, like uploads (characters undercounted non-ASCII text 4x)
    return _create_from_bytes(
        body, tenant=tenant, dataset=dataset, kind="json",
        source_type=Document.Source.JSON, title=title, tags=tags, metadata=metadata,
    )  # fmt: skip


# --------------------------------------------------------------------------- shared by creators
def _create_document(
    *,
    tenant: Tenant,
    dataset: Dataset,
    path: Path,
    source_type: str,
    title: str,
    tags: Iterable[str] | None,
    metadata: Any,
    kind: str | None = None,
    original_filename: str = "",
    source_url: str = "",
    enqueue: bool = True,
) -> tuple[Document, bool]:
    """Store the file at ``path`` under a generated name and create the document (or dedup).

    ``kind`` defaults to what ``sniff`` makes of the bytes and ``original_filename``.
    """
    if kind is None:
        kind = sniff(path, original_filename)
    assert dataset.tenant_id == tenant.id, "cross-tenant dataset passed to a document service"
    tags = clean_tags(tags)
    metadata = clean_metadata(metadata)
    content_hash, size = _sha256(path)
    existing = _same_content(tenant=tenant, dataset=dataset, content_hash=content_hash)
    if existing is not None and not _needs_repost(existing):
        if stored_file_problem(existing) is not None:
            _restore_stored_file(existing, path)
        if enqueue and existing.status == Document.Status.QUEUED:  # its task may be lost (broker
            _enqueue(existing)  # down after its row committed); a duplicate task is skipped
        return existing, False
    if existing is None:  # (a failed one posted again is re-queued: not one more document)
        enforce_document_quota(tenant=tenant, size_bytes=size)  # before its file is stored
    document = Document(
        tenant=tenant,
        dataset=dataset,
        title=(title.strip() or original_filename.strip() or source_url or "Untitled")[:500],
        source_type=source_type,
        source_url=source_url,
        original_filename=original_filename[:500],
        mime_type=MIME_BY_KIND[kind],
        size_bytes=size,
        tags=tags,
        metadata=metadata,
        content_hash=content_hash,
        status=Document.Status.QUEUED,
        embedding_model=dataset.embedding_model,
    )
    with open(path, "rb") as fh:
        document.file.save(f"{uuid.uuid4().hex}{EXTENSION_BY_KIND[kind]}", File(fh), save=False)
    if existing is not None:
        revived = _requeue_failed(failed=existing, upload=document)
        if revived is not None:
            if enqueue:
                _enqueue(revived)
            log.info("failed document %s posted again (%s, %d bytes)", revived.id, kind, size)
            return revived, True
        # It stopped being failed (a concurrent post re-queued it) or was deleted meanwhile.
        existing = _same_content(tenant=tenant, dataset=dataset, content_hash=content_hash)
        if existing is not None:
            delete_stored_files([document.file.name])
            return existing, False
    try:
        with transaction.atomic():
            enforce_document_quota(tenant=tenant, size_bytes=size, lock=True)  # tenant row first
            # The dataset's row too (datasets.services.dataset_delete locks it first): a dataset
            # deleted meanwhile is a 404 here, not a foreign-key violation (500) at commit.
            if not Dataset.objects.select_for_update(no_key=True).filter(pk=dataset.pk).exists():
                raise NotFound()
            document.save()
    except NotFound:
        delete_stored_files([document.file.name])
        raise
    except (IntegrityError, QuotaExceeded):
        # The same content was posted concurrently and its row won (or filled the quota):
        # answer with that one.
        delete_stored_files([document.file.name])
        existing = _same_content(tenant=tenant, dataset=dataset, content_hash=content_hash)
        if existing is None:
            raise
        return existing, False
    if enqueue:
        _enqueue(document)
    log.info("document %s created (%s, %d bytes)", document.id, kind, size)
    return document, True


_REPOSTED_FIELDS = (
    "title", "source_type", "source_url", "original_filename", "mime_type", "size_bytes", "tags",
    "metadata", "file", "embedding_model",
)  # fmt: skip


_FAILED_INGESTION = Q(status=Document.Status.FAILED) | (
    Q(status=Document.Status.READY) & ~Q(error="")
)  # failed, or ready with the previous version after a failed re-ingest (ingestion.fail_document)


def _needs_repost(document: Document) -> bool:
    return document.status == Document.Status.FAILED or (
        document.status == Document.Status.READY and bool(document.error)
    )


def _requeue_failed(*, failed: Document, upload: Document) -> Document | None:
    """The ``failed`` document with the fields and stored file of ``upload`` (the same content
    posted again, not saved), queued with its error cleared; None if its last ingestion no
    longer failed.

    Its error may tell the user to post the document again (its stored file went missing, the
    worker gave up): deduplication must not answer that with the same failed document. The
    same holds for a ready document whose re-ingest failed (it kept its previous version).
    """
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().filter(_FAILED_INGESTION, pk=failed.pk).first()
        )
        if document is None:
            return None
        replaced = document.file.name if document.file else ""
        before = snapshot(document, (*_REPOSTED_FIELDS, "status", "error"))
        for name in _REPOSTED_FIELDS:
            setattr(document, name, getattr(upload, name))
        document.status = Document.Status.QUEUED
        document.progress = 0.0
        document.error = ""
        document.attempts = 0
        fields = [*_REPOSTED_FIELDS, "status", "progress", "error", "attempts", "updated_at"]
        document.save(update_fields=fields)
        document_retry_record(document=document, before=before)
        # A document that kept its previous version is read while queued (retrieval.READABLE):
        # its chunks take the new tags now, so scopes' tag filters follow the post at once.
        Chunk.objects.filter(document_id=document.pk).update(tags=document.tags)
    if replaced and replaced != document.file.name:
        transaction.on_commit(lambda: delete_stored_files([replaced]))
    return document


def _create_from_bytes(data: bytes, **fields: Any) -> tuple[Document, bool]:
    """Stage ``data`` as a file and create the document from it (``_create_document``'s fields)."""
    with _staging() as path:
        path.write_bytes(data)
        return _create_document(path=path, **fields)


@contextlib.contextmanager
def _staging() -> Iterator[Path]:  # a path in a fresh temporary directory, removed on exit
    with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
        yield Path(tmp) / "content"


def _check_size(size: int) -> None:
    if size > settings.MAX_UPLOAD_BYTES:
        raise payload_too_large()


def _sha256(path: Path) -> tuple[str, int]:
    """Hex SHA-256 and size of the file at ``path``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def stored_file_problem(document: Document) -> tuple[str, str] | None:
    """What is wrong with ``document``'s stored file, as ``(code, clause)``, or None if it is
    the content that was posted: same SHA-256 as ``content_hash`` (computed by ``_sha256`` at
    upload). ``code`` is ``missing``, ``unreadable`` or ``changed``; ``clause`` starts a sentence
    ("The stored file is missing"). A document without a file, or whose storage has no local
    path, is not checked here (the worker says so when it gets to it).
    """
    if not document.file:
        return None
    try:
        path = Path(document.file.path)
    except (NotImplementedError, ValueError):
        return None
    try:
        digest, _ = _sha256(path)
    except FileNotFoundError:
        return "missing", "The stored file is missing"
    except OSError as exc:
        return "unreadable", f"The stored file cannot be read ({exc.strerror or exc})"
    if document.content_hash and digest != document.content_hash:
        return "changed", (
            "The stored file no longer matches the document's content_hash (it was changed or "
            "damaged on disk)"
        )
    return None


def _restore_stored_file(document: Document, path: Path) -> None:
    """Put the file at ``path`` (the same content, posted again) in place of ``document``'s
    missing or changed stored file; the document itself is unchanged (its chunks came from this
    content). How a document refused a re-ingest for its stored file is repaired."""
    old = document.file.name
    with open(path, "rb") as fh:
        document.file.save(f"{uuid.uuid4().hex}{Path(old).suffix}", File(fh), save=False)
    name = document.file.name
    restored = Document.objects.filter(pk=document.pk, content_hash=document.content_hash).update(
        file=name
    )
    if not restored:  # deleted meanwhile
        delete_stored_files([name])
        return
    transaction.on_commit(lambda: delete_stored_files([old]))
    log.info("document %s: stored file %s restored as %s", document.id, old, name)


def _same_content(*, tenant: Tenant, dataset: Dataset, content_hash: str) -> Document | None:
    return (
        Document.objects.for_tenant(tenant)
        .filter(dataset=dataset, content_hash=content_hash)
        .first()
    )


def _enqueue(document: Document) -> None:
    from datasets.recovery import queue_ingestion

    document_id = str(document.id)
    transaction.on_commit(lambda: queue_ingestion(document_id))


def delete_stored_files(names: list[str]) -> None:
    """Remove stored document files; a file that can't be removed is logged, not raised."""
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete stored file %s", name)
