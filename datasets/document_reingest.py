"""Writes of documents that go back to their source: re-ingest (from the stored file, or for a
URL document optionally fetched again: ``refetch``), and documents created from a URL.

Split from ``datasets/document_services.py`` (creators, dedup, delete), whose helpers these use;
callers reach both through ``datasets.services``, which re-exports them.
"""

from __future__ import annotations

import codecs
import logging
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.files import File
from django.db import IntegrityError, transaction

from audit.services import audit_record
from chatbot_project.errors import APIError, Conflict, NotFound
from datasets.document_services import (
    _create_document,
    _enqueue,
    _needs_repost,
    _same_content,
    _sha256,
    _staging,
    delete_stored_files,
    stored_file_problem,
)
from datasets.filetypes import EXTENSION_BY_KIND, MIME_BY_KIND, sniff
from datasets.models import Dataset, Document
from datasets.shown_url import shown_url
from tenants.models import Tenant
from tenants.quotas import enforce_document_quota

if TYPE_CHECKING:
    from datasets.fetch import FetchResult

log = logging.getLogger("chatbot.datasets")

TEXT_KINDS = {"markdown", "html", "json", "text"}


# --------------------------------------------------------------------------- URL
def document_create_from_url(
    *,
    tenant: Tenant,
    dataset: Dataset,
    url: str,
    title: str = "",
    tags: Iterable[str] | None = (),
    metadata: Any = None,
) -> tuple[Document, bool]:
    """Fetch ``url`` now (SSRF-safe, size/time capped) and ingest what came back."""
    with _staging() as path:
        kind, result = _fetch(url, path)
        if not title.strip() and kind == "html":  # a page is called by its <title>, not its URL
            from datasets.extraction.html import page_title

            title = page_title(path)
        return _create_document(
            tenant=tenant, dataset=dataset, path=path, kind=kind, source_type=Document.Source.URL,
            title=title or shown_url(url), tags=tags, metadata=metadata, source_url=url[:2000],
            original_filename=result.filename,
        )  # fmt: skip


def _fetch(url: str, path: Path) -> tuple[str, FetchResult]:
    """Fetch ``url`` into ``path`` (``datasets.fetch``'s rules); returns the kind of what came
    back and the fetch's result. A refused or failed fetch is an APIError saying why."""
    from datasets.fetch import FetchError, fetch_to_file

    try:
        result = fetch_to_file(url, path)
    except FetchError as exc:
        raise APIError(str(exc), type=exc.error_type, status_code=exc.status_code) from None
    # The bytes decide (a "PDF" that is an HTML error page is HTML); the server's type only
    # breaks ties between text formats.
    kind = sniff(path, result.filename)
    if kind in TEXT_KINDS and result.kind in TEXT_KINDS:
        kind = result.kind
    if kind in TEXT_KINDS and result.charset:
        # Keep the server's declared charset: store the text re-encoded as UTF-8.
        from datasets.extraction.text import decode_bytes

        data = path.read_bytes()
        text = decode_bytes(data, result.charset)
        encoding = "utf-8-sig" if kind == "html" and _meta_names_another(data) else "utf-8"
        path.write_text(text, encoding=encoding)
    return kind, result


def _meta_names_another(html: bytes) -> bool:
    """Whether the page's ``<meta charset>`` names another charset than UTF-8 (as a page in
    Windows-1252 says twice, in the HTTP header and the ``<meta>``). Stored re-encoded as
    UTF-8, such a page gets a BOM, which the extractor trusts before the ``<meta>``: else it
    decoded the UTF-8 bytes as Windows-1252 ("trÃ¨s"). The HTTP header wins, as in browsers."""
    from datasets.extraction.html import meta_charset

    declared = meta_charset(html)
    if not declared:
        return False
    try:
        return codecs.lookup(declared).name != "utf-8"
    except LookupError:
        return False  # (decode_bytes ignores a charset it does not know)


# --------------------------------------------------------------------------- re-ingest
def document_reingest(*, tenant: Tenant, document: Document, refetch: bool = False) -> Document:
    """Queue ``document`` to be ingested again from its stored file, or with ``refetch`` (a
    document created from a URL) from what its URL serves now.

    A stored file that is missing, unreadable or no longer the posted content (its SHA-256 is
    not ``content_hash``: changed or damaged on disk, or not restored with a backup) is refused
    here with a 409 ``conflict`` naming the problem (``details.stored_file``), and the document
    is left as it was, still answering from its current chunks; posting the same content again
    restores the file (``_restore_stored_file``). Checked on the request rather than only by the
    worker because it is cheap: hashing the largest corpus file (a 2.8 MB PDF) takes 4-9 ms,
    a file at the default MAX_UPLOAD_BYTES (50 MiB) about 55 ms, measured on this 2-core host;
    and the client learns at once instead of polling for a failure. The worker checks again
    (``ingestion._process``), for a file changed after this request and for other queued runs;
    there the failure is recorded on the document (``fail_document``: a ready document keeps
    its previous version).
    """
    assert document.tenant_id == tenant.id
    if refetch:
        return _reingest_refetched(tenant=tenant, document=document)
    refusal = reingest_refusal(document)
    if refusal is not None:
        raise refusal
    _queue_again(document)
    return document


def reingest_refusal(document: Document) -> APIError | None:
    """The error ``document_reingest`` refuses ``document`` with for its stored file (none, or
    not the posted content), or None; ``manage.py reingest --dry-run`` asks it too."""
    if not document.file:
        return APIError("This document has no stored content to re-ingest; post it again.")
    problem = stored_file_problem(document)
    if problem is None:
        return None
    code, clause = problem
    then = "that re-ingests it" if _needs_repost(document) else "then re-ingest it"
    return Conflict(
        f"{clause}, so this document cannot be re-ingested; post the same content again to "
        f"restore it ({then}).",
        details={"stored_file": code},
    )


def _reingest_refetched(*, tenant: Tenant, document: Document) -> Document:
    """Fetch the document's ``source_url`` again, with the same rules as when it was created
    (``datasets.fetch``: SSRF checks, size and time caps; a refusal is answered as then, and
    the document is left as it was), and queue it with what came back as its stored file
    (``content_hash``, size, type and filename follow). The fetch happens on the request, as
    at creation, so a page that is gone or refused is the request's error, not a failed run.
    Content identical to another document of the dataset is a 409 naming it (one document per
    content, as for posts)."""
    from datasets.ingestion import lease_is_live

    if document.source_type != Document.Source.URL or not document.source_url:
        sentence = "Only a document created from a URL can be fetched again."
        raise APIError(
            f"refetch: {sentence} Re-ingest this one without refetch.",
            details={"fields": {"refetch": [sentence]}},
        )
    if lease_is_live(str(document.pk)):  # (before spending a fetch on it)
        raise Conflict(BUSY)
    old = document.file.name if document.file else ""
    with _staging() as path:
        kind, result = _fetch(document.source_url, path)
        content_hash, size = _sha256(path)
        with open(path, "rb") as fh:
            document.file.save(f"{uuid.uuid4().hex}{EXTENSION_BY_KIND[kind]}", File(fh), save=False)
    fetched = document.file.name
    fields = {
        "file": fetched, "content_hash": content_hash, "size_bytes": size,
        "mime_type": MIME_BY_KIND[kind], "original_filename": result.filename[:500],
    }  # fmt: skip
    try:
        _queue_again(document, fields, replacing_bytes=document.size_bytes)
    except IntegrityError:
        delete_stored_files([fetched])
        other = _same_content(tenant=tenant, dataset=document.dataset, content_hash=content_hash)
        raise Conflict(
            f"{document.source_url} now serves the same content as another document of this "
            "dataset (details.document_id); delete one of them, or re-ingest this one without "
            "refetch.",
            details={"document_id": str(other.id) if other else None},
        ) from None
    except BaseException:
        delete_stored_files([fetched])
        raise
    if old and old != fetched:
        transaction.on_commit(lambda: delete_stored_files([old]))
    log.info("document %s fetched again (%s, %d bytes)", document.id, kind, size)
    return document


BUSY = "This document is being ingested right now; re-ingest it once it is ready or failed."


def _queue_again(
    document: Document, fields: dict[str, Any] | None = None, *, replacing_bytes: int = 0
) -> None:
    """Set ``document`` queued (with ``fields``: a re-fetched file, its storage counted against
    the quota) and enqueue it; refreshes ``document``."""
    from datasets.ingestion import Lease

    # The worker's lease, held while the status changes: a worker running it would mark it
    # ready and the queued run would then be skipped (the re-ingest, say after a chunk size
    # change, lost while it showed `queued`); a worker starting meanwhile is turned away (its
    # run skipped) and the run queued here does the work.
    lease = Lease.acquire(str(document.pk))
    if lease is None:
        raise Conflict(BUSY)
    try:
        with transaction.atomic():
            if fields:
                enforce_document_quota(
                    tenant=document.tenant, size_bytes=fields["size_bytes"], lock=True,
                    replacing_bytes=replacing_bytes,
                )  # fmt: skip
            updated = Document.objects.filter(pk=document.pk).update(
                status=Document.Status.QUEUED, progress=0.0, error="", attempts=0, **(fields or {})
            )
            if not updated:  # deleted meanwhile (say during a refetch's download): a 404, not
                raise NotFound()  # refresh_from_db's DoesNotExist (a 500)
            audit_record(
                tenant=document.tenant, action="document.reingest", obj=document,
                label=document.title, changes={
                    "refetch": bool(fields), "status": {"old": document.status, "new": "queued"},
                },
            )  # fmt: skip
    finally:
        lease.release()
    document.refresh_from_db()
    _enqueue(document)
