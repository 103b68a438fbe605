"""Django's User and Group admins, tenant-scoped for staff who are not superusers.

``tenants/admin.py`` registers these in place of ``django.contrib.auth``'s own. For a staff user
who is not a superuser:

- Users: they see the users who share at least one of their active tenants, and themself
  (``scope_users``); any other user is the admin's "doesn't exist" answer, like a missing one.
  ``is_superuser``, ``is_staff``, ``groups`` and ``user_permissions`` are read-only for them.
  They may change themself (name, e-mail; their password on the admin's own page, which asks
  for the current one, as everyone's own password is), and change or delete another user only if
  that user is neither a superuser nor staff and, in every tenant the user belongs to, they
  hold a role with ``admin`` at least as high as the user's (an admin does not manage owners):
  whoever sets a user's password acts as that user in all of the user's tenants.
  Adding users is for superusers (a new user belongs to no tenant; operators run
  ``create_user``, which adds the membership).
- Groups carry permissions: only superusers add, change or delete them; others may at most view.
"""

from __future__ import annotations

from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect

from tenants.admin_operators import SuperuserWritesMixin
from tenants.admin_roles import admin_roles, may_grant, role_allows
from tenants.admin_scoping import scope_users
from tenants.models import Membership

PRIVILEGES = ("is_staff", "is_superuser", "groups", "user_permissions")


def may_manage_user(request: HttpRequest, user: AbstractUser, *, itself: bool) -> bool:
    """Whether ``request.user`` may change (``itself=True``) or delete ``user`` (module doc)."""
    if admin_roles(request) is None:
        return True
    if user.pk == request.user.pk:
        return itself
    if user.is_superuser or user.is_staff:
        return False
    theirs = Membership.objects.filter(user_id=user.pk).values_list("tenant_id", "role")
    return all(
        role_allows(request, tenant_id, "admin") and may_grant(request, tenant_id, role)
        for tenant_id, role in theirs
    )


class TenantUserAdmin(UserAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_users(super().get_queryset(request), request)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + tuple(f for f in PRIVILEGES if f not in readonly)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (
            obj is None or may_manage_user(request, obj, itself=True)
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or may_manage_user(request, obj, itself=False)
        )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        # One's own password is changed on the admin's own page, which asks for the current
        # one: this form does not, so a borrowed or hijacked session could set a new password
        # and keep the account (and its REST sign-in) for good.
        if str(id) == str(request.user.pk):
            return redirect("admin:password_change")
        return super().user_change_password(request, id, form_url)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        # "Delete selected" already asked has_delete_permission per user; a tripwire.
        if any(not may_manage_user(request, user, itself=False) for user in queryset):
            raise PermissionDenied("You cannot delete some of these users; ask an operator.")
        super().delete_queryset(request, queryset)


class SuperuserGroupAdmin(SuperuserWritesMixin, GroupAdmin):
    """Groups carry permissions: granting one is an operator's act."""
