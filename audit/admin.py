from django.contrib import admin
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from tenants.admin_roles import tenants_allowing
from tenants.admin_scoping import TenantScopedAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Read-only, for everyone: the log is append-only (``manage.py purge_audit`` is its only
    delete). Seen where the role is admin (owner, admin), as ``GET /v1/audit`` is: the log
    names API keys and members, which a ``member`` may not list either."""

    write_permission = "admin"
    list_display = ("created_at", "action", "object_label", "actor_label", "via", "tenant")
    list_filter = ("tenant", "object_type", "actor_type", "via")
    search_fields = ("action", "object_id", "object_label", "actor_label", "request_id")
    date_hierarchy = "created_at"
    list_select_related = ("tenant",)

    def get_queryset(self, request):
        allowed = tenants_allowing(request, self.write_permission)
        queryset = super().get_queryset(request)
        return queryset if allowed is None else queryset.filter(tenant_id__in=allowed)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.may_write(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Only with its tenant, which only superusers delete: Django's delete page asks this of
        # everything the tenant's deletion cascades to. Never an event by itself (below).
        return request.user.is_superuser

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied("Audit events are deleted only by manage.py purge_audit.")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
