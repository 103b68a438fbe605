"""Writes of documents that go back to their source: re-ingest, and documents created from a URL.

Split from ``datasets/document_services.py`` (creators, dedup, delete), whose helpers these use;
callers reach both through ``datasets.services``, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chatbot_project.errors import APIError, Conflict
from datasets.document_services import (
    _create_document,
    _enqueue,
    _needs_repost,
    _staging,
    stored_file_problem,
)
from datasets.filetypes import sniff
from datasets.models import Dataset, Document
from tenants.models import Tenant

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
    from datasets.fetch import FetchError, fetch_to_file

    with _staging() as path:
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

            text = decode_bytes(path.read_bytes(), result.charset)
            path.write_text(text, encoding="utf-8")
        return _create_document(
            tenant=tenant, dataset=dataset, path=path, kind=kind, source_type=Document.Source.URL,
            title=title or result.title or url, tags=tags, metadata=metadata, source_url=url[:2000],
            original_filename=result.filename,
        )  # fmt: skip


# --------------------------------------------------------------------------- re-ingest
def document_reingest(*, tenant: Tenant, document: Document) -> Document:
    """Queue ``document`` to be ingested again from its stored file.

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
    if not document.file:
        raise APIError("This document has no stored content to re-ingest; post it again.")
    problem = stored_file_problem(document)
    if problem is not None:
        code, clause = problem
        then = "that re-ingests it" if _needs_repost(document) else "then re-ingest it"
        raise Conflict(
            f"{clause}, so this document cannot be re-ingested; post the same content again to "
            f"restore it ({then}).",
            details={"stored_file": code},
        )
    from datasets.ingestion import Lease

    # The worker's lease, held while the status changes: a worker running it would mark it
    # ready and the queued run would then be skipped (the re-ingest, say after a chunk size
    # change, lost while it showed `queued`); a worker starting meanwhile is turned away (its
    # run skipped) and the run queued here does the work.
    lease = Lease.acquire(str(document.pk))
    if lease is None:
        raise Conflict(
            "This document is being ingested right now; re-ingest it once it is ready or failed."
        )
    try:
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.QUEUED, progress=0.0, error="", attempts=0
        )
    finally:
        lease.release()
    document.refresh_from_db()
    _enqueue(document)
    return document
