"""reingest (--tenant SLUG | --all [--include-suspended]) [--dataset NAME_OR_ID] [--dry-run |
--wait]: ingest documents again from their stored originals, with the code the workers run now
(say, after an upgrade changed the chunker: documents ingested before keep their chunks until
re-ingested). ``--all`` skips suspended tenants (``is_active`` off) and names them;
``--include-suspended`` takes them too, and ``--tenant`` takes the tenant it names either way.

Each document goes through ``POST /v1/documents/{id}/reingest``'s service
(``document_reingest``): the same refusals, each a skipped document counted by its reason, never
a crash (no stored original, a stored file missing, unreadable or changed, a worker on it). A
document already ``queued`` or ``processing`` is skipped too: that run ingests it with the
current code, and a second task would only be skipped by the worker. The documents are queued
for the Celery workers as the API queues them; until each one's new version lands (in the
transaction that sets it ``ready``), answers keep using its previous chunks
(``retrieval_sql.READABLE``), so nothing drops out of answers meanwhile. A failed re-ingest
keeps the previous version and says so in ``error`` (``ingestion.fail_document``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from typing import Any

from django.core.management.base import CommandError
from django.db.models import Q, QuerySet

from chatbot_project.commands import CheckedCommand, chunks_label
from chatbot_project.errors import APIError, Conflict, NotFound
from datasets.document_reingest import BUSY, document_reingest, reingest_refusal
from datasets.document_wait import TERMINAL, wait_for_documents
from datasets.ingestion import lease_is_live
from datasets.models import Dataset, Document
from tenants.models import Tenant

BUSY_REASON = "already queued or being ingested"
STILL = "still queued or processing"
IN_FLIGHT = "It is already queued or being ingested; that run ingests it with the current code."


def _label(doc: Document) -> str:
    return f"{doc.tenant.slug}/{doc.dataset.name}: {doc.title or doc.id}"


def _reason(doc: Document, exc: APIError) -> str:
    """A short name for why the service refused ``doc`` (the skipped documents are counted by
    it); the service's sentence, which says what to do, is printed beside it."""
    if isinstance(exc, NotFound):
        return "deleted meanwhile"
    if str(exc.detail) == BUSY:
        return BUSY_REASON
    code = (exc.details or {}).get("stored_file")
    if code:
        return f"stored file {code}"
    if not doc.file:
        return "no stored original"
    return str(exc.detail)


def _counts(counter: Counter) -> str:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{n} {reason}" for reason, n in ranked)


class Command(CheckedCommand):
    help = (
        "Re-ingest documents from their stored originals with the current code (after an "
        "upgrade changed the chunker or an extractor), through the workers: answers keep using "
        "each document's previous version until its new one is ready. Restart the Celery "
        "workers on the new code first. --dry-run lists what would be re-ingested; --wait "
        "follows the workers until every document is ready or failed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="only this tenant")
        parser.add_argument(
            "--all", action="store_true", help="every active tenant (suspended ones are skipped)"
        )
        parser.add_argument(
            "--include-suspended", action="store_true",
            help="with --all: suspended tenants' documents too",
        )  # fmt: skip
        parser.add_argument("--dataset", metavar="NAME_OR_ID", help="only this dataset")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="only list what would be done")
        mode.add_argument(
            "--wait", action="store_true", help="follow until all are ready or failed"
        )
        parser.add_argument(
            "--timeout", type=float, default=900,
            help="with --wait: give up after this many seconds without progress (900)",
        )  # fmt: skip

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["timeout"] > 0:  # nan waited for ever, 0 or less not at all
            raise CommandError(f"--timeout {opts['timeout']}: give a number of seconds above 0.")
        selected = self._documents(opts)
        if opts["all"] and not opts["include_suspended"]:
            self._note_suspended(selected)
            selected = selected.filter(tenant__is_active=True)
        docs = list(
            selected.select_related("tenant", "dataset").order_by(
                "tenant__slug", "dataset__name", "created_at", "id"
            )
        )
        if not docs:
            self.stdout.write("No documents to re-ingest.")
            return
        dry_run = opts["dry_run"]
        queued: dict[Any, int] = {}  # id -> its chunk count before
        skipped: Counter = Counter()
        for doc in docs:
            before = doc.chunk_count
            refusal = self._refusal(doc, dry_run=dry_run)
            if refusal is not None:
                reason, sentence = refusal
                skipped[reason] += 1
                self.stdout.write(f"skipped  {_label(doc)} ({doc.id}): {sentence}")
                continue
            queued[doc.pk] = before
            self.stdout.write(f"{'would queue' if dry_run else 'queued  '} {_label(doc)}")
        left = f"; {sum(skipped.values())} skipped ({_counts(skipped)})" if skipped else ""
        if dry_run:
            self.stdout.write(
                f"{len(queued)} document(s) would be re-ingested{left}. Nothing was changed "
                "(--dry-run)."
            )
            return
        if not opts["wait"] or not queued:
            self.stdout.write(
                f"Queued {len(queued)} document(s) for re-ingestion{left}. Answers use each "
                "document's previous version until its new one is ready; follow them in the "
                "admin or with GET /v1/documents/{id}."
            )
            return
        finished = not wait_for_documents(
            list(queued), opts["timeout"], desc="reingest", note=self.note
        )
        outcome = self._report(queued, skipped)
        if not finished:
            raise CommandError(
                f"Nothing moved for {opts['timeout']:g} s with {outcome[STILL]} document(s) still "
                "queued or processing; is a worker running (`make run`)? They stay queued: a "
                "worker re-ingests them when it runs."
            )
        if outcome["failed"]:
            raise CommandError(f"{outcome['failed']} of {len(queued)} re-ingests failed (above).")

    def _note_suspended(self, selected: QuerySet) -> None:
        """--all leaves suspended tenants out (their keys and users are refused; re-ingesting
        spends the workers on documents nobody can read); say whose, and how to include them."""
        slugs = sorted(
            set(selected.filter(tenant__is_active=False).values_list("tenant__slug", flat=True))
        )
        if slugs:
            self.stdout.write(
                f"Skipped suspended tenant(s) {', '.join(slugs)}: --include-suspended "
                "re-ingests their documents too."
            )

    def _documents(self, opts: dict[str, Any]) -> QuerySet:
        """The documents the options select; a bad option is one sentence."""
        # An empty `--tenant "$T"` (an unset variable) must not read as "no filter".
        if opts["tenant"] is not None and not opts["tenant"].strip():
            raise CommandError("--tenant is empty; give a tenant's slug (or --all for all).")
        if opts["dataset"] is not None and not opts["dataset"].strip():
            raise CommandError("--dataset is empty; give a name, or leave --dataset out.")
        if opts["tenant"] and opts["all"]:
            raise CommandError("Give --tenant SLUG or --all, not both.")
        if opts["include_suspended"] and not opts["all"]:
            raise CommandError(
                "--include-suspended goes with --all (--tenant SLUG re-ingests the tenant it "
                "names, suspended or not)."
            )
        if not opts["tenant"] and not opts["all"]:
            raise CommandError(
                "Say whose documents to re-ingest: --tenant SLUG for one tenant, or --all for "
                "every tenant."
            )
        datasets = Dataset.objects.all()
        where = " in any tenant"
        if opts["tenant"]:
            tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No tenant {opts['tenant']!r}; see `manage.py create_tenant`.")
            datasets = datasets.filter(tenant=tenant)
            where = f" in tenant {tenant.slug!r}"
        if opts["dataset"]:
            value = opts["dataset"]
            match = Q(name=value)
            with contextlib.suppress(ValueError):  # (a name that is no UUID)
                match |= Q(pk=uuid.UUID(value))
            datasets = datasets.filter(match)
            if not datasets.exists():
                raise CommandError(f"No dataset {value!r} (name or id){where}.")
        # (A document's tenant is its dataset's; both are filtered, as the API's lookups do.)
        return Document.objects.filter(
            dataset__in=datasets.values("pk"), tenant_id__in=datasets.values("tenant_id")
        )

    @staticmethod
    def _refusal(doc: Document, *, dry_run: bool) -> tuple[str, str] | None:
        """Queue ``doc`` through the API's service (only ask it, with ``dry_run``); why it was
        not, as (reason, sentence), or None."""
        if doc.status not in TERMINAL:
            return BUSY_REASON, IN_FLIGHT
        try:
            if dry_run:
                refusal = reingest_refusal(doc)
                if refusal is None and lease_is_live(str(doc.pk)):
                    refusal = Conflict(BUSY)
                if refusal is not None:
                    raise refusal
            else:
                document_reingest(tenant=doc.tenant, document=doc)
        except APIError as exc:
            return _reason(doc, exc), str(exc.detail)
        return None

    def _report(self, queued: dict[Any, int], skipped: Counter) -> Counter:
        """A line per document, then the summary; how many ended how."""
        docs = list(
            Document.objects.filter(pk__in=list(queued))
            .select_related("tenant", "dataset")
            .order_by("tenant__slug", "dataset__name", "created_at", "id")
        )
        outcome: Counter = Counter()
        for doc in docs:
            if doc.status == Document.Status.FAILED or doc.error:  # (ready: previous version)
                outcome["failed"] += 1
                self.stdout.write(f"failed   {_label(doc)} ({doc.id}): {doc.error}")
            elif doc.status == Document.Status.READY:
                outcome["ready"] += 1
                chunks = chunks_label(doc.chunk_count)
                self.stdout.write(f"ready    {_label(doc)} ({chunks}, were {queued[doc.pk]})")
            else:
                outcome[STILL] += 1
        outcome["deleted meanwhile"] = len(queued) - len(docs)
        left = f"; {sum(skipped.values())} skipped ({_counts(skipped)})" if skipped else ""
        counts = ", ".join(
            f"{outcome[key]} {key}"
            for key in ("ready", "failed", STILL, "deleted meanwhile")
            if outcome[key] or key in ("ready", "failed")
        )
        self.stdout.write(f"Re-ingested {len(queued)} document(s): {counts}{left}.")
        return outcome
