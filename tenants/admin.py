from django.contrib import admin

from tenants.admin_scoping import TenantScopedAdminMixin, admin_tenant_ids, scope_to_tenants
from tenants.models import Membership, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "is_active", "created_at")
    search_fields = ("slug", "name")

    def get_queryset(self, request):
        return scope_to_tenants(super().get_queryset(request), admin_tenant_ids(request))

    # Creating and deleting tenants (which deletes all their data) is for operators.
    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    raw_id_fields = ("user", "tenant")
