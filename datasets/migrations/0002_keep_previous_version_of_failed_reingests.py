# Documents whose re-ingest failed before commit 76f43ca were left `failed` while still holding
# the chunks of their previous version: listed by GET .../chunks, but not read by retrieval
# (ready documents only). Since 76f43ca such a failure keeps the previous version in use
# (ingestion.fail_document): `ready`, progress 1, `error` "Re-ingesting failed; answers still use
# the previous version (N chunks). Reason: ...", processed_at that of the version in use. This
# gives the old rows that shape, only where it is unambiguous: the document is `failed` with a
# reason, and its chunks are one complete version (as many as its chunk_count, indexes
# 0..chunk_count-1: chunks are only written together with `ready` and chunk_count). Anything
# else is left alone. The old failure overwrote processed_at; the version's own time is taken
# back from its chunks (inserted in the same transaction, milliseconds before).

from django.db import migrations
from django.db.models import Count, F, Max, Min


def keep_previous_versions(apps, schema_editor):
    Document = apps.get_model("datasets", "Document")
    stale = (
        Document.objects.filter(status="failed", chunk_count__gt=0)
        .exclude(error="")
        .annotate(
            n=Count("chunks"),
            low=Min("chunks__index"),
            high=Max("chunks__index"),
            made=Max("chunks__created_at"),
        )
        .filter(n=F("chunk_count"), low=0, high=F("chunk_count") - 1)
    )
    for doc_id, chunk_count, error, made in stale.values_list(
        "id", "chunk_count", "error", "made"
    ).iterator():
        Document.objects.filter(pk=doc_id, status="failed").update(
            status="ready",
            progress=1.0,
            error=(
                f"Re-ingesting failed; answers still use the previous version ({chunk_count} "
                f"chunks). Reason: {error}"
            )[:2000],
            processed_at=made,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(keep_previous_versions, migrations.RunPython.noop, elidable=True),
    ]
