"""The ingestion pipeline of one document: extract -> chunk -> embed -> replace chunks atomically.

Called by the Celery task (``datasets.tasks.ingest_document``) and, in-process, by ``seed_demo``
and tests. Guarantees:
- Status goes ``queued -> processing -> ready | failed``; ``progress`` moves 0..1 as it goes.
- Every failure stores a sentence in ``error`` (never a stuck ``processing``: see the lease below
  and ``datasets.recovery``). A failed re-ingest leaves the previous chunks in use and the
  document ``ready`` (``fail_document``).
- Old chunks are deleted and the new ones inserted in ONE transaction, so retrieval never sees a
  half-ingested document, and running twice yields the same chunks. Until then a re-ingested
  document's chunks are its previous version, which retrieval keeps reading
  (``retrieval.READABLE``).
- Memory stays bounded: extraction streams page by page (PDF), chunks are embedded in batches
  and kept as compact float32 rows; the text of a document is held once at most.

A worker holds a Redis lease (``ingest:lease:<id>``) while it processes a document, refreshed on
every batch. A second delivery of the same document while the lease is live is skipped; a
document left ``processing`` with an expired lease (its worker was killed) is re-queued by the
workers' sweep (``datasets.recovery``), after which the next run replaces whatever was written.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from datasets.chunking import ChunkDraft, chunk_blocks
from datasets.document_services import stored_file_problem
from datasets.embeddings import EmbeddingError, get_embedder
from datasets.extraction import ExtractionError, extract
from datasets.filetypes import KIND_BY_MIME
from datasets.models import Chunk, Dataset, Document
from datasets.text_search import language_gone

log = logging.getLogger("chatbot.ingest")

EMBED_BATCH = 64
INSERT_BATCH = 500
MAX_ATTEMPTS = 3
LEASE_PREFIX = "ingest:lease:"


class RetryableError(Exception):
    """A transient failure (embedding provider); the task retries it with backoff."""


class Skipped(Exception):
    """Nothing to do: the document is gone, already finished, or another worker holds it."""


@dataclass
class Lease:
    """A Redis key proving that a live worker is processing this document."""

    document_id: str
    token: str
    ttl: int

    @property
    def key(self) -> str:
        return LEASE_PREFIX + self.document_id

    @classmethod
    def acquire(cls, document_id: str) -> Lease | None:
        from chatbot_project.redis_client import get_redis

        lease = cls(document_id, uuid.uuid4().hex, settings.INGEST_LEASE_SECONDS)
        if get_redis().set(lease.key, lease.token, nx=True, ex=lease.ttl):
            return lease
        return None

    def refresh(self) -> None:
        """Redis unreachable: go on (a blip must not throw away minutes of work; if the lease
        expires meanwhile, the sweep may run the document again, which is harmless)."""
        from chatbot_project.redis_client import get_redis

        try:
            r = get_redis()
            if r.get(self.key) in (self.token, self.token.encode()):
                r.expire(self.key, self.ttl)
            else:  # lost it (expired while we were stalled): take it back if free
                r.set(self.key, self.token, nx=True, ex=self.ttl)
        except redis.RedisError as exc:
            log.warning("document %s: its lease was not refreshed (%s)", self.document_id, exc)

    def release(self) -> None:
        from chatbot_project.redis_client import get_redis

        try:
            r = get_redis()
            if r.get(self.key) in (self.token, self.token.encode()):
                r.delete(self.key)
        except redis.RedisError as exc:  # it expires by itself
            log.warning("document %s: its lease was not released (%s)", self.document_id, exc)


def lease_is_live(document_id: str) -> bool:
    from chatbot_project.redis_client import get_redis

    return bool(get_redis().exists(LEASE_PREFIX + str(document_id)))


def _owners_key_share(doc: Document) -> str | None:
    """Lock the rows of the document's tenant, then its dataset, FOR KEY SHARE until the
    transaction ends (the lock the chunks' foreign key checks take at commit; Django's
    select_for_update has no such mode); the dataset's language as it is under that lock (a
    change of it waits for this commit: ``text_search.set_chunks_language``), None if one is
    gone."""
    row = None
    with connection.cursor() as cursor:
        for sql, pk in (
            ("SELECT 1 FROM tenants_tenant WHERE id = %s FOR KEY SHARE", doc.tenant_id),
            ("SELECT language FROM datasets_dataset WHERE id = %s FOR KEY SHARE", doc.dataset_id),
        ):
            cursor.execute(sql, [pk])
            row = cursor.fetchone()
            if row is None:
                return None
    return row[0]


def _set(document_id: uuid.UUID | str, **fields) -> int:
    """Update the document's row; returns how many rows changed (0: it was deleted)."""
    return Document.objects.filter(pk=document_id).update(updated_at=timezone.now(), **fields)


def fail_document(document_id: uuid.UUID | str, message: str) -> str:
    """Record a failed ingestion; returns the document's status now.

    A document that still has the chunks of an earlier successful run (a re-ingest failed: the
    stored file went missing, the extractor or the embedding provider gave up) keeps them and
    stays ``ready``, with ``error`` saying that the re-ingest failed and that the previous
    version is still in use: chats keep answering from it, as they did while it was
    re-ingested (``retrieval.READABLE``), and its chunk listing shows what they read. Only a
    document without chunks is ``failed``. Chunks are only ever written with ``ready`` (see
    ``_process``), so they are always the last version that was ingested in full.
    """
    with transaction.atomic():
        row = (
            Document.objects.select_for_update()
            .filter(pk=document_id)
            .values_list("chunk_count", flat=True)
            .first()
        )
        if row is not None and Chunk.objects.filter(document_id=document_id).exists():
            _set(
                document_id,
                status=Document.Status.READY,
                progress=1.0,
                error=(
                    f"Re-ingesting failed; answers still use the previous version ({row} chunks). "
                    f"Reason: {message}"
                )[:2000],
            )
            log.info(
                "document %s re-ingest failed; previous version kept: %s", document_id, message
            )
            return Document.Status.READY
        _set(
            document_id,
            status=Document.Status.FAILED,
            error=message[:2000],
            progress=0.0,
            processed_at=timezone.now(),
        )
    log.info("document %s failed: %s", document_id, message)
    return Document.Status.FAILED


class _Progress:
    """Throttled progress writes (at most every 0.5 s) that also refresh the lease."""

    def __init__(self, document_id: str, lease: Lease | None) -> None:
        self.document_id = document_id
        self.lease = lease
        self.last = 0.0

    def __call__(self, value: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        if not _set(self.document_id, progress=max(0.0, min(1.0, round(value, 4)))):
            # Deleted (or its dataset) meanwhile: stop, rather than hold the worker for minutes.
            raise Skipped("document deleted while processing")
        if self.lease is not None:
            self.lease.refresh()


def run_pipeline(
    path: Path,
    kind: str,
    *,
    title: str,
    chunk_size: int,
    chunk_overlap: int,
    embed: bool = True,
    on_progress=None,
) -> tuple[list[ChunkDraft], np.ndarray | None, int | None]:
    """Extract + chunk (+ embed) a file. Returns (drafts, vectors or None, page count).

    Two phases, so the parsed document (python-docx's XML tree, pdfium's pages) is released
    before the model's activations are allocated: extraction streams into the chunker, which
    keeps only chunk texts; then the chunks are embedded in batches into one float32 matrix.
    """
    info: dict = {}
    span = 0.3 if embed else 1.0
    # Load the model (once per process) before parsing, while the heap is still small.
    embedder = get_embedder() if embed else None

    def blocks():
        def extracted(fraction: float) -> None:  # kinds without pages: DOCX, HTML, text, ...
            on_progress(span * fraction)

        for block in extract(path, kind, title=title, info=info, progress=extracted):
            pages = info.get("pages")
            page = getattr(block, "page", None)  # Sections (DOCX) have no page numbers
            if pages and page:
                on_progress(span * page / pages)
            yield block

    source = extract(path, kind, title=title, info=info) if on_progress is None else blocks()
    drafts = list(chunk_blocks(source, title=title, chunk_size=chunk_size, overlap=chunk_overlap))
    if not drafts:
        raise ExtractionError(
            "No text could be extracted from this document (is it a scanned image or empty?)."
            if kind in ("pdf", "docx")  # (images: a scan, or pictures of text)
            else "No text could be extracted from this document: it is empty, or holds only "
            "headings or markup."
        )
    if embedder is None:
        return drafts, None, info.get("pages")
    matrix = np.empty((len(drafts), embedder.dimensions), dtype=np.float32)
    for start in range(0, len(drafts), EMBED_BATCH):
        texts = [d.text for d in drafts[start : start + EMBED_BATCH]]
        if hasattr(embedder, "embed_chunks"):  # the local model, in its configured precision
            # Progress (and the deletion check) after each forward pass (or int8 chunk), not
            # each 64 chunks: those took 8-10 s on 2 cores (float32), as long as a deleted
            # document kept the worker.
            def done(count: int, start: int = start) -> None:
                on_progress(0.3 + 0.65 * (start + count) / len(drafts))

            matrix[start : start + len(texts)] = embedder.embed_chunks(
                texts, done=None if on_progress is None else done
            )
        else:
            matrix[start : start + len(texts)] = np.asarray(
                embedder.embed_documents(texts), dtype=np.float32
            )
        if on_progress is not None:
            on_progress(0.3 + 0.65 * (start + len(texts)) / len(drafts))
    return drafts, matrix, info.get("pages")


def process_document(document_id: uuid.UUID | str, *, use_lease: bool = True) -> str:
    """Ingest one document. Returns its final status. Raises RetryableError for the task."""
    document_id = str(document_id)
    doc = Document.objects.select_related("dataset").filter(pk=document_id).first()
    if doc is None:
        raise Skipped("document deleted")
    if doc.status not in (Document.Status.QUEUED, Document.Status.PROCESSING):
        raise Skipped(f"document already {doc.status}")
    lease = None
    if use_lease:
        lease = Lease.acquire(document_id)
        if lease is None:
            raise Skipped("another worker holds the document")
    try:
        return _process(doc, lease)
    finally:
        if lease is not None:
            lease.release()


def _process(doc: Document, lease: Lease | None) -> str:
    document_id = str(doc.id)
    attempts = doc.attempts + 1
    if attempts > MAX_ATTEMPTS:
        return fail_document(
            document_id,
            f"Ingestion was interrupted {MAX_ATTEMPTS} times (the worker stopped, ran out of time "
            "or of memory); the file may be too large. Split it and post it again.",
        )
    _set(document_id, status=Document.Status.PROCESSING, progress=0.0, error="", attempts=attempts)
    progress = _Progress(document_id, lease)
    dataset: Dataset = doc.dataset
    kind = KIND_BY_MIME.get(doc.mime_type, "text")
    if not doc.file:
        return fail_document(document_id, "The document has no stored content; post it again.")
    try:
        path = Path(doc.file.path)
    except (NotImplementedError, ValueError):
        return fail_document(document_id, "The stored file cannot be opened by the worker.")
    problem = stored_file_problem(doc)  # missing, unreadable, or not the posted content
    if problem is not None:
        return fail_document(document_id, f"{problem[1]}; post the document again.")
    started = time.monotonic()
    try:
        drafts, vectors, pages = run_pipeline(
            path,
            kind,
            title=doc.title,
            chunk_size=dataset.chunk_size,
            chunk_overlap=dataset.chunk_overlap,
            on_progress=progress,
        )
    except ExtractionError as exc:
        return fail_document(document_id, str(exc))
    except EmbeddingError as exc:
        if exc.retryable:
            raise RetryableError(str(exc)) from exc
        return fail_document(document_id, f"Embedding failed: {exc}")
    except MemoryError:
        return fail_document(
            document_id, "The document needed more memory than the worker has; split it."
        )
    progress(0.97, force=True)
    embedder_name = get_embedder().model_name
    with transaction.atomic():
        # The tenant's and dataset's rows before the document's, as their DELETEs take them
        # (FOR KEY SHARE: only a DELETE waits): a delete that came first has committed when
        # this reads, one that comes later waits for this commit and sees the chunks written.
        language = _owners_key_share(doc)
        if language is None:
            raise Skipped("dataset or tenant deleted while processing")
        if gone := language_gone(language, dataset.name):  # dropped on the server: say so
            return fail_document(document_id, gone)
        locked = Document.objects.select_for_update().filter(pk=document_id).first()
        if locked is None:
            raise Skipped("document deleted while processing")
        # The tags as they are now (PATCH /v1/documents/{id} may have changed them during the
        # run; it updates the chunks it finds under this lock, and these are written under it).
        tags = list(locked.tags)
        Chunk.objects.filter(document_id=document_id).delete()
        rows = []
        for draft, vector in zip(drafts, vectors, strict=True):
            rows.append(
                Chunk(
                    tenant_id=doc.tenant_id,
                    document_id=document_id,
                    dataset_id=doc.dataset_id,
                    index=draft.index,
                    text=draft.text,
                    token_count=draft.token_count,
                    metadata=draft.metadata,
                    tags=tags,
                    language=language,
                    embedding=vector,
                )
            )
            if len(rows) >= INSERT_BATCH:
                Chunk.objects.bulk_create(rows)
                rows = []
                if lease is not None:  # a long insert is no dead worker (recovery.sweep)
                    lease.refresh()
        if rows:
            Chunk.objects.bulk_create(rows)
        _set(
            document_id,
            status=Document.Status.READY,
            progress=1.0,
            error="",
            chunk_count=len(drafts),
            page_count=pages,
            embedding_model=embedder_name,
            processed_at=timezone.now(),
        )
    elapsed = time.monotonic() - started
    log.info("document %s ready: %d chunks in %.1fs", document_id, len(drafts), elapsed)
    return Document.Status.READY
