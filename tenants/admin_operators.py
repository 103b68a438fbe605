"""Admins that other packages register (django-otp's devices, simplejwt's token blacklist).

They hold no tenant data but every user's credentials: a TOTP device its user's secret key (and
the QR code carrying it), an outstanding token a whole refresh token. A staff user with Django's
view permission on them would read everyone's, superusers' included; with add permission, give
any user a second factor whose key they chose. So they are for superusers only: for a staff user
who is not one, these admins do not exist (no view, add, change or delete, no entry on the
index). Operators enroll devices with ``manage.py otp_enroll``; settings'
``OTP_ADMIN_HIDE_SENSITIVE_DATA`` keeps existing keys and QR codes off superusers' pages too.

``tenants/admin.py`` calls ``restrict_to_superusers`` when it is imported: those packages come
before our apps in ``INSTALLED_APPS``, so their admins are registered by then
(``test_admin_operators`` checks the whole registry). Django's User and Group admins are
replaced by ours (``tenants.admin_users``) and are left alone.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

OUR_PACKAGES = frozenset(
    {"apikeys", "bots", "chatbot_project", "conversations", "datasets", "tenants"}
)


class SuperuserWritesMixin:
    """Mix in before a ModelAdmin: only superusers add, change or delete (others may view, if
    Django's permissions let them)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class SuperuserOnlyAdminMixin(SuperuserWritesMixin):
    """Mix in before a ModelAdmin: nothing of it for users who are not superusers."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)


def is_ours(model_admin: admin.ModelAdmin) -> bool:
    return type(model_admin).__module__.split(".")[0] in OUR_PACKAGES


def restrict_to_superusers(site: admin.AdminSite) -> None:
    """Re-register every admin of ``site`` that another package registered, superuser-only."""
    for model, model_admin in list(site._registry.items()):
        if is_ours(model_admin) or isinstance(model_admin, SuperuserOnlyAdminMixin):
            continue
        original = type(model_admin)
        restricted = type(
            f"SuperuserOnly{original.__name__}",
            (SuperuserOnlyAdminMixin, original),
            {"__module__": __name__, "__doc__": f"{original.__name__}, superusers only."},
        )
        site.unregister(model)
        site.register(model, restricted)
