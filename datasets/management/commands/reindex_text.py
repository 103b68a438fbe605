"""reindex_text [--tenant SLUG] (--dataset NAME_OR_ID | --language NAME | --all): recompute the
chunks' keyword-search vectors (``search_vector``) under their dataset's text search
configuration as the server defines it now.

A stored vector is made once, when its chunk is written. A configuration changed in place
afterwards (``ALTER TEXT SEARCH CONFIGURATION ... ALTER MAPPING``, a dictionary's stop words or
synonyms replaced, a configuration dropped and made again) leaves the vectors made before with
the old lexemes while the questions get the new ones: keyword search silently matches worse
until they are re-derived. Nothing is re-extracted nor re-embedded: one UPDATE per batch of
chunks (``text_search.reindex_chunks``), each in a transaction holding the dataset's row FOR
UPDATE as a language change does, so an ingestion worker writing into the dataset commits first
and one starting meanwhile waits (a few milliseconds per batch). A dataset whose configuration
no longer exists is skipped with a sentence saying what to do, and the command exits with 1.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.core.management.base import CommandError
from django.db.models import Q

from bots.cli import tenant_named
from chatbot_project.commands import CheckedCommand, chunks_label
from chatbot_project.progress import progress
from datasets.models import Chunk, Dataset
from datasets.text_search import missing_languages, missing_sentence, reindex_chunks


class Command(CheckedCommand):
    help = (
        "Recompute the stored keyword-search vectors of datasets' chunks after a text search "
        "configuration was changed on the server (ALTER TEXT SEARCH CONFIGURATION, a dictionary "
        "replaced). Nothing is re-extracted nor re-embedded; ingestion may go on meanwhile."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="only this tenant's datasets")
        parser.add_argument("--dataset", metavar="NAME_OR_ID", help="only this dataset")
        parser.add_argument(
            "--language", metavar="NAME",
            help="only datasets with this language (the configuration that was changed)",
        )  # fmt: skip
        parser.add_argument(
            "--all", action="store_true", help="every dataset (of --tenant, if given)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        datasets = list(self._datasets(opts))
        if not datasets:
            self.stdout.write("No datasets to re-index.")
            return
        gone = {row[0]: row[2] for row in missing_languages(dataset_ids=[d.pk for d in datasets])}
        done_total, skipped = 0, 0
        for dataset in datasets:
            label = f"{dataset.tenant.slug}/{dataset.name}"
            if dataset.pk in gone:
                skipped += 1
                sentence = missing_sentence(
                    gone[dataset.pk], [dataset.name], what="its chunks cannot be re-indexed"
                )
                self.stdout.write(f"skipped  {label}: {sentence}")
                continue
            total = Chunk.objects.filter(tenant_id=dataset.tenant_id, dataset=dataset).count()
            bar = progress(total=total, desc=label, unit="chunk", disable=not total)
            done, after = 0, None
            while True:
                count, after = reindex_chunks(dataset.pk, after)
                if not count:
                    break
                done += count
                bar.update(count)
            bar.close()
            done_total += done
            self.stdout.write(f"{label}: {chunks_label(done)} re-indexed ({dataset.language}).")
        line = f"Re-indexed {chunks_label(done_total)} in {len(datasets) - skipped} dataset(s)"
        if skipped:
            raise CommandError(
                f"{line}; {skipped} skipped: their text search configuration no longer exists "
                "(above)."
            )
        self.stdout.write(f"{line}.")

    def _datasets(self, opts: dict[str, Any]) -> Any:
        """The datasets the options select; a bad option is one sentence."""
        for option in ("tenant", "dataset", "language"):
            # An empty `--tenant "$T"` (an unset variable) must not widen the run.
            if opts[option] is not None and not opts[option].strip():
                raise CommandError(f"--{option} is empty; give a value, or leave --{option} out.")
        if opts["dataset"] and opts["all"]:
            raise CommandError("Give --dataset NAME_OR_ID or --all, not both.")
        if not (opts["dataset"] or opts["language"] or opts["all"]):
            raise CommandError(
                "Say which datasets to re-index: --language NAME for those using the "
                "configuration that changed, --dataset NAME_OR_ID, or --all."
            )
        datasets = Dataset.objects.select_related("tenant").order_by("tenant__slug", "name")
        where = ""
        if opts["tenant"]:
            datasets = datasets.filter(tenant=tenant_named(opts["tenant"]))
            where = f" in tenant {opts['tenant']!r}"
        if opts["dataset"]:
            match = Q(name=opts["dataset"])
            with contextlib.suppress(ValueError):  # (a name that is no UUID)
                match |= Q(pk=uuid.UUID(opts["dataset"]))
            datasets = datasets.filter(match)
            if not datasets.exists():
                raise CommandError(f"No dataset {opts['dataset']!r} (name or id){where}.")
        if opts["language"]:
            datasets = datasets.filter(language=opts["language"])
            if not datasets.exists():
                used = sorted(set(Dataset.objects.values_list("language", flat=True)))
                raise CommandError(
                    f"No dataset{where} has language {opts['language']!r} (a configuration "
                    f"made on the server is named with its schema, e.g. public.name); "
                    f"languages in use: {', '.join(used) or 'none'}."
                )
        return datasets
