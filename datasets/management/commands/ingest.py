"""ingest --tenant <slug> --dataset <name> PATH_OR_URL... [--wait | --sync] [--tags a,b]"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction
from tqdm import tqdm

from chatbot_project.commands import CheckedCommand, check_text, chunks_label, validated
from chatbot_project.errors import APIError
from chatbot_project.jsonbody import problem
from chatbot_project.progress import progress
from datasets import services
from datasets.document_input import BLANK_TAG, clean_tags
from datasets.document_wait import TERMINAL, wait_for_documents
from datasets.ingestion import RetryableError, Skipped, fail_document, process_document
from datasets.models import Dataset, Document
from datasets.recovery import mark_queued, task_started
from datasets.serializers import DatasetInputSerializer
from datasets.tasks import crash_sentence
from datasets.text_search import check_language
from tenants.models import Tenant
from tenants.quotas import QuotaExceeded

log = logging.getLogger("chatbot.ingest")


def broken_link(path: Path) -> str | None:
    """Why ``path`` is a symbolic link that leads to no file (a sentence), or None."""
    if not path.is_symlink() or path.exists():
        return None
    try:
        target = os.readlink(path)
    except OSError:  # removed meanwhile
        return None
    try:
        path.resolve(strict=True)
    except (RuntimeError, OSError) as exc:  # Python 3.11 raises RuntimeError for a loop
        if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP:
            return f"it is a symbolic link to {target} that leads back to itself (a loop of links)."
        return f"it is a symbolic link to {target}, which does not exist; fix or remove the link."
    return None  # it leads somewhere after all (created meanwhile)


def expand(targets: list[str]) -> list[str | Path]:
    """URLs as given; files; folders walked recursively (hidden entries skipped), sorted.

    Broken symbolic links are kept (the command refuses each with a line saying why) rather
    than left out unseen like the other entries that are not files.
    """
    out: list[str | Path] = []
    for target in targets:
        if not target:  # Path("") is the working directory: an unset "$FOLDER" ingested it
            raise CommandError(
                "An empty PATH_OR_URL was given (an unset shell variable?); name a file, folder "
                "or URL (`.` for the current folder)."
            )
        if target.lower().startswith(("http://", "https://")):  # (schemes are case-blind)
            out.append(target)
            continue
        path = Path(target).expanduser()
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if (p.is_file() or (p.is_symlink() and not p.exists()))
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:  # a mistyped or not yet filled folder ended "successfully"
                raise CommandError(
                    f"{target} is a folder with no files to ingest (hidden files and folders, "
                    "whose names start with '.', are skipped)."
                )
            out += found
        elif path.is_file() or broken_link(path):
            out.append(path)
        elif not path.exists():  # a typo, most often: say so, not what it is not
            raise CommandError(
                f"{target} does not exist (give a file, a folder or an http(s) URL)."
            )
        else:
            raise CommandError(f"{target} is neither a file, a folder nor an http(s) URL.")
    return out


def _tags(raw: str) -> list[str]:
    """--tags as the API reads a form's tags: ``a,b``; a blank item (``a,,b``, a trailing
    comma) is refused with the API's sentence before anything is uploaded, never dropped."""
    if not raw.strip():
        return []
    if any(not tag.strip() for tag in raw.split(",")):
        raise CommandError(f"--tags: {BLANK_TAG} ({raw!r} has an empty item.)")
    try:
        return clean_tags(raw.split(","))
    except APIError as exc:
        raise CommandError(f"--tags: {exc.detail}") from None


class Command(CheckedCommand):
    help = (
        "Ingest files, folders (recursively) and URLs into a dataset (created if missing). "
        "--wait blocks until every document is ready or failed (a worker must be running); "
        "--sync processes them in this process instead (no worker needed)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "targets", nargs="+", metavar="PATH_OR_URL",
            help="files, folders (read recursively) and http(s) URLs",
        )  # fmt: skip
        parser.add_argument("--tenant", required=True, help="the tenant (slug)")
        parser.add_argument(
            "--dataset", required=True, help="the dataset's name (created if missing)"
        )
        parser.add_argument("--tags", default="", help="comma-separated tags for every document")
        parser.add_argument(
            "--language", default=None,
            help="text search language of a dataset created here (a PostgreSQL configuration: "
            "english (default), german, french, simple...); an existing dataset must have it",
        )  # fmt: skip
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="wait for the worker to finish")
        mode.add_argument("--sync", action="store_true", help="process here, without a worker")
        parser.add_argument(
            "--timeout", type=float, default=3600,
            help="with --wait: give up after this many seconds without progress (3600)",
        )  # fmt: skip

    def handle(self, *args: Any, **opts: Any) -> None:
        # What the report names each document by: the file or URL as its `queued` line did
        # (the title alone left a folder's many `index` documents apart only by their ids).
        self.labels: dict[Any, str] = {}
        tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {opts['tenant']!r}; create it with `create_tenant`.")
        check_text(opts["dataset"], "--dataset", controls=True)
        if not opts["timeout"] > 0:  # nan waited for ever (inf says so), 0 or less not at all
            raise CommandError(f"--timeout {opts['timeout']}: give a number of seconds above 0.")
        # The API's rules for a dataset name (POST /v1/datasets).
        validated(DatasetInputSerializer, {"name": opts["dataset"]}, {"name": "--dataset"})
        language = opts["language"]
        if language is not None:
            try:
                check_language(language)
            except APIError as exc:
                raise CommandError(f"--language: {exc.detail}") from None
        items = expand(opts["targets"])
        dataset, created = services.dataset_get_or_create(
            tenant=tenant, name=opts["dataset"], language=language
        )
        if created:
            self.note(f"Created dataset {dataset.name!r}.")
        elif language is not None and dataset.language != language:
            raise CommandError(
                f"Dataset {dataset.name!r} has language {dataset.language!r}, not {language!r}; "
                "change it with PATCH /v1/datasets/{id} (its chunks follow) or leave out "
                "--language."
            )
        tags = _tags(opts["tags"])
        docs: list[Document] = []
        refused = 0
        quota = ""  # the first quota sentence, repeated in the final error
        for item in progress(items, desc="upload", unit="file", disable=len(items) < 2):
            if problem(str(item)):  # a file in a folder whose name's bytes are not UTF-8
                refused += 1
                self._line(self.stderr, f"refused  {item}: its name is not UTF-8; rename it.")
                continue
            why = broken_link(item) if isinstance(item, Path) else None
            if why:
                refused += 1
                self._line(self.stderr, f"refused  {item}: {why}")
                continue
            try:
                if isinstance(item, Path):
                    doc, new = services.document_create_from_path(
                        tenant=tenant,
                        dataset=dataset,
                        path=item,
                        tags=tags,
                        enqueue=not opts["sync"],
                    )
                else:
                    doc, new = services.document_create_from_url(
                        tenant=tenant, dataset=dataset, url=item, tags=tags
                    )
            except APIError as exc:
                refused += 1
                if isinstance(exc, QuotaExceeded) and not quota:
                    quota = f" {exc.detail}"
                self._line(self.stderr, f"refused  {item}: {exc.detail}")
                continue
            self._line(self.stdout, f"{'queued ' if new else 'exists '}  {item} -> {doc.id}")
            if opts["sync"] and doc.status == Document.Status.QUEUED:
                mark_queued(str(doc.pk))  # its run is this command's: the workers' sweep waits
            docs.append(doc)
            self.labels[doc.pk] = str(item)
        if created and not docs:  # everything refused: no empty dataset left behind
            self._drop_new(tenant, dataset)

        if opts["sync"]:
            for doc in progress(docs, desc="ingest", unit="doc"):
                if doc.status not in TERMINAL:
                    self._process(doc)
                task_started(str(doc.pk))
        elif opts["wait"] and docs:
            self._wait([d.pk for d in docs], opts["timeout"])

        failed = self._report([d.pk for d in docs], final=opts["sync"] or opts["wait"])
        if refused or failed:
            raise CommandError(f"{refused} refused, {failed} failed.{quota}")

    def _drop_new(self, tenant: Tenant, dataset: Any) -> None:
        """Delete the dataset this command created when nothing went into it (it stayed
        behind, empty); one someone filled meanwhile (an API upload) is kept."""
        with transaction.atomic():  # its row locked first: a document inserted meanwhile waits
            locked = Dataset.objects.select_for_update().filter(pk=dataset.pk).exists()
            if not locked or dataset.documents.exists():
                return
            services.dataset_delete(tenant=tenant, dataset=dataset)
        self.note(f"Removed the new dataset {dataset.name!r}: nothing was accepted into it.")

    @staticmethod
    def _line(stream: Any, text: str) -> None:
        """``text`` as one line above the upload bar (cleared and drawn again under it).
        tqdm.write ends the line itself, and Django's wrapper of the stream ended it once more:
        a blank line after every file."""
        with tqdm.external_write_mode(file=stream._out):
            stream.write(text)

    @staticmethod
    def _process(doc: Document) -> None:
        """``--sync``: the worker's task, here. What it records on a crash is recorded too (a
        document left ``processing`` with no error, and the files after it never processed,
        otherwise); a provider outage fails the document, with nobody here to retry it later."""
        try:
            process_document(doc.pk)
        except Skipped:
            pass
        except RetryableError as exc:
            fail_document(doc.pk, f"{exc} Re-ingest it later.")
        except Exception as exc:
            log.exception("ingest %s crashed", doc.pk)
            fail_document(doc.pk, crash_sentence(exc))

    def _wait(self, ids: list, timeout: float) -> None:
        """The progress bar until every document ended; an error once nothing moved for
        ``timeout`` s (it was a deadline for the whole wait: a corpus that took longer failed
        while the workers were busy with it, asking if one ran)."""
        instead = "; --sync processes them in this command instead"
        left = wait_for_documents(ids, timeout, desc="ingest", note=self.note, instead=instead)
        if left:
            raise CommandError(
                f"Nothing moved for {timeout:g} s with {left} document(s) still queued or "
                "processing; is a worker running (`make run`)? They stay queued: a worker "
                "ingests them when it runs."
            )

    def _label(self, doc: Document) -> str:
        """The file or URL, with the document's title when it is not the file's name."""
        item = self.labels.get(doc.pk)
        if item is None:
            return doc.title
        return item if doc.title in (item, Path(item).stem) else f"{item} ({doc.title})"

    def _report(self, ids: list, *, final: bool) -> int:
        failed = 0
        docs = list(Document.objects.filter(pk__in=ids).order_by("created_at"))
        for missing in set(ids) - {doc.pk for doc in docs}:
            failed += 1
            self.stdout.write(f"deleted  {missing}: deleted before its ingestion finished")
        for doc in docs:
            if doc.status == Document.Status.FAILED or doc.error:  # (ready: previous version)
                failed += 1
                self.stdout.write(f"failed   {self._label(doc)}: {doc.error}")
            elif final:
                self.stdout.write(
                    f"{doc.status:8} {self._label(doc)} ({chunks_label(doc.chunk_count)})"
                )
        return failed
