from django.contrib import admin

from bots.models import Bot, Scope
from tenants.admin_scoping import TenantScopedAdminMixin


@admin.register(Bot)
class BotAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("slug", "name", "tenant", "retrieval_mode", "is_active")
    list_filter = ("tenant", "is_active")
    search_fields = ("slug", "name")


@admin.register(Scope)
class ScopeAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("slug", "name", "tenant", "require_grounding")
    list_filter = ("tenant",)
