from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from datasets import services
from datasets.embeddings import configured_model_name
from datasets.models import Chunk, Dataset, Document
from datasets.text_search import available_languages, set_chunks_language
from tenants.admin_scoping import TenantScopedAdminMixin


class _ServiceDeleteAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Deletes go through ``delete_one`` (a service), as the API's do: they remove the stored
    files too, for one object and for the "delete selected" action alike."""

    def delete_one(self, obj):  # pragma: no cover - each admin below says which service
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.check_tenant(request, obj)
        self.delete_one(obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in self.writable(request, queryset).select_related("tenant"):
            self.delete_one(obj)


@admin.register(Dataset)
class DatasetAdmin(_ServiceDeleteAdmin):
    """The embedding model is what its vectors were made with (``reembed`` and the
    ``datasets.W001`` check read it): recorded on add as the API does, never edited here. An
    admin-added dataset recorded none, and an edited one hid stale vectors from both."""

    creation_quota = "max_datasets"
    audit_type = "dataset"
    list_display = ("name", "tenant", "embedding_model", "created_at")
    list_filter = ("tenant",)
    readonly_fields = ("embedding_model", "embedding_dimensions")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "language":  # the server's text search configurations
            names = sorted(available_languages())
            return forms.ChoiceField(
                choices=[(n, n) for n in names], initial=db_field.default,
                help_text="Text search configuration of keyword search (stemming, stop words). "
                "A change re-derives the chunks already in the dataset on save.",
            )  # fmt: skip
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        """A dataset whose configuration was dropped on the server keeps it as a choice, said
        missing, so its other fields can be saved (as PATCH allows); picking it anew is not
        offered to other datasets (``formfield_for_dbfield`` lists the server's)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields.get("language")
        missing = obj is not None and field is not None and obj.language
        if missing and obj.language not in {value for value, _ in field.choices}:
            field.choices = [
                (obj.language, f"{obj.language} (missing on the server: pick another, or "
                 "re-create it and run manage.py reindex_text)"),
                *field.choices,
            ]  # fmt: skip
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            obj.embedding_model = configured_model_name()
        elif "language" in form.changed_data:  # its chunks follow, in the admin's transaction
            set_chunks_language(obj.pk, obj.language)
        super().save_model(request, obj, form, change)

    def delete_one(self, obj):
        services.dataset_delete(tenant=obj.tenant, dataset=obj)


@admin.register(Document)
class DocumentAdmin(_ServiceDeleteAdmin):
    """Documents come in through the API or ``manage.py ingest`` (hashed, deduplicated, within
    the quotas, queued for ingestion): an admin-added one was never ingested, had no
    ``content_hash`` (the second was a 500) and skipped the quotas. Here only ``title``,
    ``tags`` and ``metadata`` change; what ingestion wrote, and the stored file, stay as they
    are. Changed tags reach the chunks, which scopes' tag filters read."""

    audit_type = "document"
    list_display = ("title", "tenant", "dataset", "status", "chunk_count", "created_at")
    list_filter = ("status", "tenant")
    search_fields = ("title",)
    readonly_fields = (
        "dataset", "source_type", "source_url", "original_filename", "file", "mime_type",
        "size_bytes", "content_hash", "status", "progress", "error", "chunk_count", "page_count",
        "embedding_model", "attempts", "processed_at",
    )  # fmt: skip

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "tags" in form.changed_data:  # (the admin's transaction)
            Chunk.objects.filter(document_id=obj.pk).update(tags=obj.tags)

    def delete_one(self, obj):
        services.document_delete(tenant=obj.tenant, document=obj)


@admin.register(Chunk)
class ChunkAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """View only: a chunk's text edited here kept the vector of its old text (answers ranked
    it by what it no longer said), and an added one had none. Ingestion writes chunks. Deletes
    stay (a wrong or sensitive passage out of answers at once, before a re-ingest), recorded
    in the audit log as ``chunk.delete``, one event per document (``delete_chunks``)."""

    list_display = ("document", "index", "token_count", "tenant")
    list_filter = ("tenant",)
    # Counted once, not twice (no "N total"): 100,000 chunks of a tenant cost ~180 ms a count.
    show_full_result_count = False
    raw_id_fields = ("document", "dataset")
    exclude = ("embedding",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self.check_tenant(request, obj)
        delete_chunks(Chunk.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        delete_chunks(self.writable(request, queryset))


def delete_chunks(chunks) -> None:
    """Delete ``chunks`` and set each of their documents' ``chunk_count`` to what is left;
    one ``chunk.delete`` audit event per document that lost chunks (its id and title, how many,
    which indexes, the count before and after), in the same transaction.

    The documents are locked first, as ingestion locks one before it replaces its chunks, so
    a re-ingest finishing meanwhile does not have its count overwritten (or overwrite ours).
    One UPDATE recounts them all."""
    with transaction.atomic():
        docs = {
            row[0]: row
            for row in Document.objects.select_for_update()
            .filter(pk__in=chunks.values("document_id"))
            .order_by("pk")
            .values_list("pk", "tenant_id", "title", "dataset_id", "chunk_count")
        }
        gone: dict = {}
        for document_id, index in chunks.order_by("index").values_list("document_id", "index"):
            gone.setdefault(document_id, []).append(index)
        chunks.delete()
        left = (
            Chunk.objects.filter(document_id=OuterRef("pk"))
            .order_by()
            .values("document_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        Document.objects.filter(pk__in=list(docs)).update(
            chunk_count=Coalesce(Subquery(left, output_field=IntegerField()), Value(0)),
            updated_at=timezone.now(),
        )
        _record_chunk_deletes(docs, gone)


def _record_chunk_deletes(docs: dict, gone: dict) -> None:
    from audit.services import MAX_ITEMS, audit_record
    from tenants.models import Tenant

    counts = dict(Document.objects.filter(pk__in=list(gone)).values_list("pk", "chunk_count"))
    tenants = Tenant.objects.in_bulk({docs[pk][1] for pk in gone if pk in docs})
    for pk, indexes in gone.items():
        if pk not in docs:  # (its row was deleted before ours locked it: no chunks of it left)
            continue
        _, tenant_id, title, dataset_id, before = docs[pk]
        audit_record(
            tenant=tenants[tenant_id], action="chunk.delete", object_id=pk, label=title,
            changes={
                "document": str(pk), "dataset": str(dataset_id), "chunks": len(indexes),
                "indexes": indexes[:MAX_ITEMS],  # the first 20, in order
                "chunk_count": {"old": before, "new": counts.get(pk, 0)},
            },
        )  # fmt: skip
