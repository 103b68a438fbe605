from django.contrib import admin

from datasets.models import Chunk, Dataset, Document


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("name", "tenant", "embedding_model", "created_at")
    list_filter = ("tenant",)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "tenant", "dataset", "status", "chunk_count", "created_at")
    list_filter = ("status", "tenant")
    search_fields = ("title",)
    readonly_fields = ("content_hash", "error", "progress")


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ("document", "index", "token_count", "tenant")
    list_filter = ("tenant",)
    raw_id_fields = ("document", "dataset")
    exclude = ("embedding",)
