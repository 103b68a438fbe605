"""reembed [--dataset NAME_OR_ID] [--tenant SLUG] [--all]: re-embed chunks with the current model.

Every document whose chunks are read is re-embedded (``retrieval.READABLE``): ``ready`` ones, and
those being re-ingested that still serve their previous version (queued/processing with
``chunk_count > 0``), so their answers do not rank stale vectors against the new model's
questions until the re-ingest lands (or for good, if it fails and keeps that version).

A re-ingest replaces a document's chunks wholesale (delete, insert, ``ready``) in one
transaction holding the document's row lock (``ingestion._process``). The vectors are written
under the same lock, and only if the document still has exactly the chunks that were embedded:
if its new version landed meanwhile, it keeps the vectors and ``embedding_model`` its ingestion
wrote. A re-ingest landing after the write deletes the re-embedded chunks as it would have the
old ones. An UPDATE never inserts, so no replaced chunk comes back.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Q
from tqdm import tqdm

from chatbot_project.commands import CheckedCommand
from chatbot_project.progress import progress
from datasets.embeddings import EmbeddingError, get_embedder
from datasets.models import Chunk, Dataset, Document
from datasets.retrieval_sql import READABLE_Q
from tenants.models import Tenant

BATCH = 64


class Command(CheckedCommand):
    help = (
        "Re-embed the chunks of datasets whose embedding model differs from the configured one "
        "(after changing EMBEDDING_PROVIDER/EMBEDDING_MODEL or DOCUMENT_EMBEDDING_PRECISION), "
        "or holding documents embedded otherwise. The text is not re-extracted; "
        "each document's vectors are swapped in one transaction."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dataset", metavar="NAME_OR_ID", help="only datasets with this name, or this id"
        )
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument("--all", action="store_true", help="also datasets already up to date")

    def handle(self, *args: Any, **opts: Any) -> None:
        for option in ("tenant", "dataset"):
            # An empty `--tenant "$T"` must not widen the run to every tenant.
            if opts[option] is not None and not opts[option].strip():
                raise CommandError(f"--{option} is empty; give a name, or leave --{option} out.")
        datasets = Dataset.objects.select_related("tenant").order_by("tenant__slug", "name")
        if opts["tenant"]:
            tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No tenant {opts['tenant']!r}; see `manage.py create_tenant`.")
            datasets = datasets.filter(tenant=tenant)
        if opts["dataset"]:
            # A name, or the id the API answers with (as reingest takes; an id was "no dataset").
            match = Q(name=opts["dataset"])
            with contextlib.suppress(ValueError):
                match |= Q(pk=uuid.UUID(opts["dataset"]))
            datasets = datasets.filter(match)
            if not datasets.exists():
                where = f" in tenant {opts['tenant']!r}" if opts["tenant"] else ""
                raise CommandError(f"No dataset {opts['dataset']!r} (name or id){where}.")
        embedder = get_embedder()
        if not opts["all"] and not opts["dataset"]:
            # Also a dataset labelled with the current model holding a document whose chunks
            # were embedded otherwise (e.g. by a worker configured differently): vectors of two
            # kinds (int8/float32 chunks, two models) must not stay mixed in one dataset.
            other = (
                Document.objects.filter(READABLE_Q)
                .exclude(embedding_model__in=(embedder.model_name, ""))
                .values("dataset_id")
            )
            datasets = datasets.filter(~Q(embedding_model=embedder.model_name) | Q(pk__in=other))
        todo = list(datasets)
        if not todo:
            self.stdout.write(f"Every dataset is already embedded with {embedder.model_name}.")
            return
        for dataset in todo:
            total = Chunk.objects.filter(dataset=dataset).count()
            bar = progress(total=total, desc=f"{dataset.tenant.slug}/{dataset.name}", unit="chunk")
            done, replaced = 0, 0
            for doc in Document.objects.filter(READABLE_Q, dataset=dataset).order_by("created_at"):
                try:
                    count = self._document(doc, embedder, bar)
                except EmbeddingError as exc:  # a sentence, not a traceback
                    bar.close()
                    raise CommandError(
                        f"{dataset.tenant.slug}/{dataset.name}: stopped after {done} of {total} "
                        f"chunks: {exc} The documents done keep their new vectors; run reembed "
                        "again once the provider answers."
                    ) from None
                if count is None:
                    replaced += 1
                else:
                    done += count
            bar.close()
            Dataset.objects.filter(pk=dataset.pk).update(
                embedding_model=embedder.model_name, embedding_dimensions=embedder.dimensions
            )
            line = f"{dataset.tenant.slug}/{dataset.name}: {done} chunks re-embedded."
            if replaced:
                line += (
                    f" {replaced} document(s) skipped: re-ingested meanwhile, their new version "
                    "has the vectors of its ingestion."
                )
            self.stdout.write(line)

    def _document(self, doc: Document, embedder: Any, bar: tqdm) -> int | None:
        """Re-embed one document's chunks; how many, or None if they were replaced (or the
        document deleted) while they were embedded."""
        rows = list(Chunk.objects.filter(document=doc).only("id", "text").order_by("index"))
        vectors: list[list[float]] = []
        for i in range(0, len(rows), BATCH):
            batch = rows[i : i + BATCH]
            vectors += embedder.embed_documents([r.text for r in batch])
            bar.update(len(batch))
        for row, vector in zip(rows, vectors, strict=True):
            row.embedding = vector
        with transaction.atomic():
            locked = Document.objects.select_for_update().filter(pk=doc.pk).values_list("pk")
            if not locked:
                return None
            current = set(Chunk.objects.filter(document=doc).values_list("id", flat=True))
            if current != {row.id for row in rows}:
                return None
            Chunk.objects.bulk_update(rows, ["embedding"], batch_size=500)
            Document.objects.filter(pk=doc.pk).update(embedding_model=embedder.model_name)
        return len(rows)
