"""Membership roles in the Django admin: a staff user writes only where their role allows it.

For a staff user who is not a superuser, Django's model permissions say *what* they may do to a
model; their membership role in an object's tenant says whether they may do it *there*. Roles
carry the API's permissions (``tenants.context.ROLE_PERMISSIONS``), active tenants only:

- Adding, changing or deleting a tenant-owned object needs a role with ``write`` in the object's
  tenant (owner, admin). API keys, memberships and tenant settings need ``admin`` (the
  ``write_permission`` of their ModelAdmin). A ``member`` (chat, read) gets view-only pages;
  whether they see a model at all is still up to Django's view permission.
- The add page (no object yet) is offered when the user holds such a role in at least one
  tenant; its ``tenant`` choices are those tenants, and ``save_model`` refuses any other
  (PermissionDenied), as ``delete_model`` does; "delete selected" skips such rows.
- Memberships: nobody grants a role above their own in that tenant (an admin cannot create or
  promote owners), and only an owner changes or deletes an owner's membership.

The map tenant id -> role is read once per request and kept on it. Superusers have no map
(``None``) and are not limited by roles.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest

from tenants.context import ROLE_PERMISSIONS
from tenants.models import Membership, Tenant

_CACHE_ATTR = "_admin_roles"

# Higher grants more; a role unknown here ranks below every known one.
ROLE_RANK = {Membership.Role.MEMBER: 0, Membership.Role.ADMIN: 1, Membership.Role.OWNER: 2}


def admin_roles(request: HttpRequest) -> dict[Any, str] | None:
    """``request.user``'s role per active tenant; ``None`` for a superuser (every tenant)."""
    user = request.user
    if user.is_superuser:
        return None
    cached = getattr(request, _CACHE_ATTR, None)
    if cached is None:
        cached = dict(
            Membership.objects.filter(user_id=user.pk, tenant__is_active=True).values_list(
                "tenant_id", "role"
            )
        )
        setattr(request, _CACHE_ATTR, cached)
    return cached


def role_grants(role: str | None, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS.get(role or "", ())


def tenants_allowing(request: HttpRequest, permission: str) -> frozenset | None:
    """Ids of the tenants where the user's role grants ``permission``; ``None`` means all."""
    roles = admin_roles(request)
    if roles is None:
        return None
    return frozenset(t for t, role in roles.items() if role_grants(role, permission))


def role_allows(request: HttpRequest, tenant_id: Any, permission: str) -> bool:
    roles = admin_roles(request)
    return roles is None or role_grants(roles.get(tenant_id), permission)


def roles_granting(permission: str) -> str:
    """``"owner or admin"``: the roles with ``permission``, for error messages."""
    return " or ".join(role for role, perms in ROLE_PERMISSIONS.items() if permission in perms)


def may_grant(request: HttpRequest, tenant_id: Any, role: str) -> bool:
    """Whether the user may give ``role`` in that tenant: not above their own role there."""
    roles = admin_roles(request)
    if roles is None:
        return True
    own = roles.get(tenant_id)
    return own is not None and ROLE_RANK.get(role, 99) <= ROLE_RANK.get(own, -1)


def may_manage_membership(request: HttpRequest, membership: Membership) -> bool:
    """Only an owner of the tenant (or a superuser) changes or deletes an owner's membership."""
    if membership.role != Membership.Role.OWNER:
        return True
    roles = admin_roles(request)
    return roles is None or roles.get(membership.tenant_id) == Membership.Role.OWNER


class RoleRequiredAdminMixin:
    """Add, change and delete need ``write_permission`` in the object's tenant (module doc).

    Mix in before ``admin.ModelAdmin``; Django's model permissions are checked as well.
    """

    write_permission: str = "write"

    def object_tenant_id(self, obj: Model) -> Any:
        return obj.pk if isinstance(obj, Tenant) else obj.tenant_id

    def may_write(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """The role allows writing ``obj`` (``None``: writing in at least one tenant)."""
        if obj is None:
            allowed = tenants_allowing(request, self.write_permission)
            return allowed is None or bool(allowed)
        return role_allows(request, self.object_tenant_id(obj), self.write_permission)

    def check_tenant(self, request: HttpRequest, obj: Model) -> None:
        """PermissionDenied unless the user's role allows writing ``obj``'s tenant."""
        if not self.may_write(request, obj):
            raise PermissionDenied(
                f"Only an {roles_granting(self.write_permission)} of this tenant can change "
                "this; ask one of them."
            )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self.may_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self.may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self.may_write(request, obj)

    def get_deleted_objects(self, objs, request):
        # A big cascade is counted, not listed row by row (tenants.admin_deletes).
        from tenants.admin_deletes import deleted_objects

        return deleted_objects(self, objs, request)
