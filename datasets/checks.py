"""System check: datasets embedded with another model than the one configured now (or holding
documents embedded otherwise: int8 and float32 chunks carry different labels)."""

from __future__ import annotations

from django.core.checks import Warning, register
from django.db import DatabaseError


@register("datasets", deploy=False)
def embedding_model_matches(app_configs=None, **kwargs) -> list[Warning]:
    from django.db.models import Q

    from datasets.embeddings import configured_model_name
    from datasets.models import Dataset, Document
    from datasets.retrieval_sql import READABLE_Q

    configured = configured_model_name()
    mixed = (
        Document.objects.filter(READABLE_Q)
        .exclude(embedding_model__in=(configured, ""))
        .values("dataset_id")
    )  # as `reembed` selects them
    try:
        stale = list(
            Dataset.objects.filter(
                (~Q(embedding_model=configured) & ~Q(embedding_model="")) | Q(pk__in=mixed)
            ).values_list("name", "embedding_model")[:20]
        )
    except DatabaseError:
        return []  # no database yet (first migrate): nothing to compare
    if not stale:
        return []
    names = ", ".join(
        f"{name!r} ({'some documents otherwise' if model == configured else model})"
        for name, model in stale
    )
    return [
        Warning(
            f"Datasets embedded with another model than the configured {configured!r}: {names}. "
            "Their vectors are not comparable with new queries.",
            hint="Run `manage.py reembed` (or `reembed --dataset NAME`) to re-embed them.",
            id="datasets.W001",
        )
    ]
