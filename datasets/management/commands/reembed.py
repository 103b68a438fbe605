"""reembed [--dataset NAME] [--tenant SLUG] [--all]: re-embed chunks with the configured model."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from tqdm import tqdm

from chatbot_project.commands import CheckedCommand
from datasets.embeddings import get_embedder
from datasets.models import Chunk, Dataset, Document
from tenants.models import Tenant

BATCH = 64


class Command(CheckedCommand):
    help = (
        "Re-embed the chunks of datasets whose embedding model differs from the configured one "
        "(after changing EMBEDDING_PROVIDER/EMBEDDING_MODEL). The text is not re-extracted; "
        "each document's vectors are swapped in one transaction."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dataset", help="only datasets with this name")
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
            datasets = datasets.filter(name=opts["dataset"])
            if not datasets.exists():
                where = f" in tenant {opts['tenant']!r}" if opts["tenant"] else ""
                raise CommandError(f"No dataset named {opts['dataset']!r}{where}.")
        embedder = get_embedder()
        if not opts["all"] and not opts["dataset"]:
            datasets = datasets.exclude(embedding_model=embedder.model_name)
        todo = list(datasets)
        if not todo:
            self.stdout.write(f"Every dataset is already embedded with {embedder.model_name}.")
            return
        for dataset in todo:
            total = Chunk.objects.filter(dataset=dataset).count()
            bar = tqdm(total=total, desc=f"{dataset.tenant.slug}/{dataset.name}", unit="chunk")
            for doc in Document.objects.filter(dataset=dataset, status=Document.Status.READY):
                self._document(doc, embedder, bar)
            bar.close()
            Dataset.objects.filter(pk=dataset.pk).update(
                embedding_model=embedder.model_name, embedding_dimensions=embedder.dimensions
            )
            self.stdout.write(f"{dataset.tenant.slug}/{dataset.name}: {total} chunks re-embedded.")

    def _document(self, doc: Document, embedder: Any, bar: tqdm) -> None:
        rows = list(Chunk.objects.filter(document=doc).only("id", "text").order_by("index"))
        vectors: list[list[float]] = []
        for i in range(0, len(rows), BATCH):
            batch = rows[i : i + BATCH]
            vectors += embedder.embed_documents([r.text for r in batch])
            bar.update(len(batch))
        for row, vector in zip(rows, vectors, strict=True):
            row.embedding = vector
        with transaction.atomic():
            Chunk.objects.bulk_update(rows, ["embedding"], batch_size=500)
            Document.objects.filter(pk=doc.pk).update(embedding_model=embedder.model_name)
