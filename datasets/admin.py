from django.contrib import admin
from django.db import transaction

from datasets import services
from datasets.models import Chunk, Dataset, Document
from tenants.admin_scoping import TenantScopedAdminMixin, admin_tenant_ids, scope_to_tenants


# Deletes go through the services, as the API's do: they remove the stored files too.
@admin.register(Dataset)
class DatasetAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "tenant", "embedding_model", "created_at")
    list_filter = ("tenant",)

    def delete_model(self, request, obj):
        self.check_tenant(request, obj)
        services.dataset_delete(tenant=obj.tenant, dataset=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        scoped = scope_to_tenants(queryset, admin_tenant_ids(request))
        for dataset in scoped.select_related("tenant"):
            services.dataset_delete(tenant=dataset.tenant, dataset=dataset)


@admin.register(Document)
class DocumentAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "tenant", "dataset", "status", "chunk_count", "created_at")
    list_filter = ("status", "tenant")
    search_fields = ("title",)
    readonly_fields = ("content_hash", "error", "progress")

    def delete_model(self, request, obj):
        self.check_tenant(request, obj)
        services.document_delete(tenant=obj.tenant, document=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        scoped = scope_to_tenants(queryset, admin_tenant_ids(request))
        for document in scoped.select_related("tenant"):
            services.document_delete(tenant=document.tenant, document=document)


@admin.register(Chunk)
class ChunkAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("document", "index", "token_count", "tenant")
    list_filter = ("tenant",)
    raw_id_fields = ("document", "dataset")
    exclude = ("embedding",)
