"""System check: datasets embedded with another model than the one configured now."""

from __future__ import annotations

from django.core.checks import Warning, register
from django.db import DatabaseError


@register("datasets", deploy=False)
def embedding_model_matches(app_configs=None, **kwargs) -> list[Warning]:
    from datasets.embeddings import configured_model_name
    from datasets.models import Dataset

    configured = configured_model_name()
    try:
        stale = list(
            Dataset.objects.exclude(embedding_model=configured)
            .exclude(embedding_model="")
            .values_list("name", "embedding_model")[:20]
        )
    except DatabaseError:
        return []  # no database yet (first migrate): nothing to compare
    if not stale:
        return []
    names = ", ".join(f"{name!r} ({model})" for name, model in stale)
    return [
        Warning(
            f"Datasets embedded with another model than the configured {configured!r}: {names}. "
            "Their vectors are not comparable with new queries.",
            hint="Run `manage.py reembed` (or `reembed --dataset NAME`) to re-embed them.",
            id="datasets.W001",
        )
    ]
