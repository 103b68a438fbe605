from django.contrib import admin
from django.db import transaction

from bots import services
from bots.models import Bot, Scope
from tenants.admin_scoping import TenantScopedAdminMixin


@admin.register(Bot)
class BotAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Deletes go through ``services.bot_delete``, as the API's do (the bot's conversations are
    kept and remember its last slug), for one bot and for the "delete selected" action alike."""

    creation_quota = "max_bots"
    audit_type = "bot"
    list_display = ("slug", "name", "tenant", "retrieval_mode", "is_active")
    list_filter = ("tenant", "is_active")
    search_fields = ("slug", "name")

    def delete_model(self, request, obj):
        self.check_tenant(request, obj)
        services.bot_delete(tenant=obj.tenant, bot=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for bot in self.writable(request, queryset).select_related("tenant"):
            services.bot_delete(tenant=bot.tenant, bot=bot)


@admin.register(Scope)
class ScopeAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    audit_type = "scope"
    list_display = ("slug", "name", "tenant", "require_grounding")
    list_filter = ("tenant",)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Listing datasets limits the scope to them (as the API sets it); only unticking
        # `limited_to_datasets` lifts it, so saving a scope whose datasets were deleted keeps it.
        scope = form.instance
        if not scope.limited_to_datasets and scope.datasets.exists():
            scope.limited_to_datasets = True
            scope.save(update_fields=["limited_to_datasets", "updated_at"])
