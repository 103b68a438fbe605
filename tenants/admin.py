"""Tenants and memberships in the admin; Django's User and Group admins replaced by scoped ones.

Who may see and write what: ``tenants.admin_scoping`` (tenants), ``tenants.admin_roles``
(membership roles), ``tenants.admin_users`` (users and groups), ``tenants.admin_operators``
(other packages' admins: superusers only).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from chatbot_project.admin_site import ADMIN_FORMFIELD_OVERRIDES
from tenants.admin_operators import restrict_to_superusers
from tenants.admin_roles import (
    RoleRequiredAdminMixin,
    admin_roles,
    may_grant,
    may_manage_membership,
)
from tenants.admin_scoping import (
    SameTenantForm,
    TenantScopedAdminMixin,
    admin_tenant_ids,
    scope_to_tenants,
)
from tenants.admin_users import SuperuserGroupAdmin, TenantUserAdmin
from tenants.models import Membership, Tenant
from tenants.services import last_owner_refusal, tenant_delete, tenant_record_created

admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), TenantUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, SuperuserGroupAdmin)
restrict_to_superusers(admin.site)  # django-otp's devices, simplejwt's token blacklist

OPERATOR_FIELDS = ("slug", "is_active")  # read-only for staff who are not superusers


@admin.register(Tenant)
class TenantAdmin(RoleRequiredAdminMixin, admin.ModelAdmin):
    write_permission = "admin"  # tenant settings, as for PATCH /v1/tenant
    formfield_overrides = ADMIN_FORMFIELD_OVERRIDES  # quotas: refused JSON is a form error
    list_display = ("slug", "name", "is_active", "created_at")
    search_fields = ("slug", "name")

    def get_queryset(self, request):
        return scope_to_tenants(super().get_queryset(request), admin_tenant_ids(request))

    def get_readonly_fields(self, request, obj=None):
        # Suspending a tenant (and renaming its slug, which clients send as X-Tenant) is an
        # operator's action; a tenant admin suspending theirs would lock themselves out.
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + tuple(f for f in OPERATOR_FIELDS if f not in readonly)

    # Creating and deleting tenants (which deletes all their data) is for operators.
    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        from audit.admin_hooks import admin_saved

        def save() -> None:
            super(TenantAdmin, self).save_model(request, obj, form, change)
            if not change:  # its first event, as tenant_create records it (the admin's atomic)
                tenant_record_created(tenant=obj)

        admin_saved("tenant", obj, form, change, save)

    # Through the service: a bare cascade left the tenant's uploaded files on disk.
    def delete_model(self, request, obj):
        tenant_delete(tenant=obj)

    def delete_queryset(self, request, queryset):
        for tenant in queryset:
            tenant_delete(tenant=tenant)


class MembershipForm(SameTenantForm):
    """Refuses a role above the granting user's own in the membership's tenant."""

    admin_request: HttpRequest | None = None  # set by MembershipAdmin.get_form

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        request = self.admin_request
        tenant = cleaned.get("tenant") if "tenant" in self.fields else self.instance.tenant
        role = cleaned.get("role")
        if request is None or tenant is None or not role:
            return cleaned
        if not may_grant(request, tenant.pk, role):
            own = (admin_roles(request) or {}).get(tenant.pk)
            self.add_error(
                "role",
                f"You are {own} of {tenant}: you can give that role or a lower one. Ask an "
                "owner for a higher one.",
            )
        elif not self.instance._state.adding and role != Membership.Role.OWNER:
            in_atomic = transaction.get_connection().in_atomic_block  # (the admin's change view)
            refusal = last_owner_refusal(memberships=[self.instance], lock=in_atomic)
            if refusal:
                self.add_error("role", refusal)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    write_permission = "admin"  # who is in a tenant, and as what, is a tenant setting
    audit_type = "member"
    form = MembershipForm
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    raw_id_fields = ("user", "tenant")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.admin_request = request  # a class made for this request by modelform_factory
        return form

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or may_manage_membership(request, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (
            obj is None or may_manage_membership(request, obj)
        )

    def save_model(self, request, obj, form, change):
        if not may_grant(request, obj.tenant_id, obj.role):  # the form said so; a tripwire
            raise PermissionDenied("You cannot give a role above your own.")
        if change and obj.role != Membership.Role.OWNER:  # (idem)
            _refuse_last_owners([obj])
        super().save_model(request, obj, form, change)

    # A tenant's last owner stays (tenants.services.last_owner_refusal): the delete page and
    # "delete selected" list the refusal as what blocks the deletion, and the deletes re-check
    # it with the owners' rows locked.
    def get_deleted_objects(self, objs, request):
        deletable, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        refusal = last_owner_refusal(memberships=list(objs))
        return deletable, counts, perms_needed, [*protected, *([refusal] if refusal else [])]

    def delete_model(self, request, obj):
        _refuse_last_owners([obj])
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        _refuse_last_owners(list(queryset))
        super().delete_queryset(request, queryset)


def _refuse_last_owners(memberships: list[Membership]) -> None:
    refusal = last_owner_refusal(memberships=memberships, lock=True)
    if refusal:
        raise PermissionDenied(refusal)
