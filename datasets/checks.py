"""System checks: datasets embedded with another model than the one configured now, or holding
documents embedded otherwise; datasets whose text search language was dropped on the server
(``datasets.W002``: their keyword and hybrid searches and their ingestion fail with a sentence
saying so, ``text_search.LanguageMissing``).

Another model (``datasets.W001``, a warning): its vectors are not comparable with new questions.
The same local model in the other precision (int8 vs float32 chunks, DOCUMENT_EMBEDDING_PRECISION;
``datasets.I001``, information): the vectors stay comparable (cosine >= 0.989 to each other,
bench/README.md "Chunk embeddings in int8"), so retrieval is not degraded and a deploy check
(``--fail-level WARNING``) does not fail on an upgrade; ``manage.py reembed`` makes them uniform.

It reads every document's ``embedding_model``, so it runs where a model change matters, not on
every ``manage.py`` command (each ran Django's checks: ``ingest``, ``chat``, ``create_user``...):
with the database checks (``migrate``, run at every start by ``make run`` and the compose file;
``check --database default``) and with ``check --deploy``.
"""

from __future__ import annotations

from django.core.checks import CheckMessage, Info, Tags, Warning, register
from django.db import DatabaseError


def _same_model(configured: str) -> set[str]:
    """Labels of the configured model in either chunk precision (just itself if not local)."""
    from datasets.embedders.minilm import model_label

    variants = {model_label("fp32"), model_label("int8")}
    return variants if configured in variants else {configured}


@register("datasets", Tags.database)
def _with_database_checks(app_configs=None, databases=None, **kwargs) -> list[CheckMessage]:
    """With the database checks only (``migrate``, ``check --database default``), not on every
    ``manage.py`` command: the query reads every document's ``embedding_model``."""
    return [*embedding_model_matches(), *languages_exist()] if databases else []


@register("datasets", deploy=True)
def _with_deploy_checks(app_configs=None, databases=None, **kwargs) -> list[CheckMessage]:
    """``check --deploy`` too (once when given ``--database`` as well)."""
    return [] if databases else [*embedding_model_matches(), *languages_exist()]


def embedding_model_matches() -> list[CheckMessage]:
    from datasets.embeddings import configured_model_name
    from datasets.models import Dataset, Document
    from datasets.retrieval_sql import READABLE_Q

    configured = configured_model_name()
    try:
        stale = list(
            Dataset.objects.exclude(embedding_model__in=(configured, ""))
            .values_list("name", "embedding_model")
            .order_by("name")[:20]
        )
        mixed = list(  # as `reembed` selects them: readable documents embedded otherwise
            Document.objects.filter(READABLE_Q)
            .exclude(embedding_model__in=(configured, ""))
            .values_list("dataset__name", "embedding_model")
            .order_by("dataset__name")
            .distinct()[:20]
        )
    except DatabaseError:
        return []  # no database yet (first migrate): nothing to compare
    same = _same_model(configured)
    found: dict[bool, list[str]] = {True: [], False: []}  # precision only? -> entries
    for name, model in stale:
        found[model in same].append(f"{name!r} ({model})")
    for name, model in mixed:
        entry = f"{name!r} (documents in {model})"
        if not any(e.startswith(f"{name!r} ") for e in found[model in same]):
            found[model in same].append(entry)
    out: list[CheckMessage] = []
    hint = "Run `manage.py reembed` (or `reembed --dataset NAME`) to re-embed them."
    if found[False]:
        out.append(
            Warning(
                f"Datasets embedded with another model than the configured {configured!r}: "
                f"{', '.join(found[False])}. Their vectors are not comparable with new queries.",
                hint=hint,
                id="datasets.W001",
            )
        )
    if found[True]:
        out.append(
            Info(
                f"Datasets with chunks embedded in the other precision than the configured "
                f"{configured!r} (DOCUMENT_EMBEDDING_PRECISION): {', '.join(found[True])}. Same "
                "model, so their vectors stay comparable with new queries.",
                hint=hint,
                id="datasets.I001",
            )
        )
    return out


def languages_exist() -> list[CheckMessage]:
    """``datasets.W002``: datasets whose ``language`` is no text search configuration of the
    server any more (dropped after they were made)."""
    from datasets.text_search import missing_languages

    try:
        rows = missing_languages()
    except DatabaseError:
        return []  # no database yet (first migrate)
    if not rows:
        return []
    shown = ", ".join(f"{slug}/{name} ({language})" for _, name, language, slug in rows[:20])
    more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
    return [
        Warning(
            f"Datasets whose text search language no longer exists on the database server: "
            f"{shown}{more}. Their keyword and hybrid searches and their ingestion fail (409 / "
            "a failed document saying so).",
            hint="Re-create the configuration and run `manage.py reindex_text --language NAME`, "
            "or set each dataset's language to an existing one (PATCH /v1/datasets/{id}).",
            id="datasets.W002",
        )
    ]
