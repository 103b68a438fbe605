"""What only operators (superusers) do in the admin.

Staff who are not superusers get nothing of the admins other packages register (django-otp's
TOTP devices: secret keys and QR codes; simplejwt's token blacklist: refresh tokens), whatever
Django permissions they hold, and cannot suspend or rename their tenant. Superusers keep those
admins, without existing devices' secrets.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from tenants.admin import TenantAdmin
from tenants.admin_operators import SuperuserOnlyAdminMixin
from tenants.admin_scoping import TenantScopedAdminMixin
from tenants.admin_users import SuperuserGroupAdmin, TenantUserAdmin
from tenants.tests.admin_support import APPS, admin_url, staff_client

pytestmark = pytest.mark.django_db

OPERATOR_APPS = ("otp_totp", "token_blacklist")
PERMISSIONS = ("view", "add", "change", "delete")


@pytest.fixture
def credentials(superuser) -> dict:
    """The superuser's TOTP device (made by signing in) and refresh tokens (one blacklisted)."""
    root = get_user_model().objects.get(username="root")
    outstanding = RefreshToken.for_user(root)
    RefreshToken.for_user(root).blacklist()
    return {
        "device": TOTPDevice.objects.get(user=root),
        "outstanding": OutstandingToken.objects.get(jti=outstanding["jti"]),
        "blacklisted": BlacklistedToken.objects.get(token__user=root),
    }


@pytest.fixture
def otp_staff(tenant):
    """An owner of acme with every Django permission on devices and tokens as well."""
    return staff_client(Client(), {tenant: "owner"}, apps=(*APPS, *OPERATOR_APPS))


@pytest.mark.parametrize("kind", ["device", "outstanding", "blacklisted"])
def test_staff_get_no_page_of_devices_or_tokens(otp_staff, credentials, kind):
    obj = credentials[kind]
    opts = obj._meta
    # Holding every Django permission on the model is not enough.
    assert otp_staff.staff_user.has_perms(
        [f"{opts.app_label}.{action}_{opts.model_name}" for action in PERMISSIONS]
    )
    for view in ("changelist", "change", "delete", "history"):
        assert otp_staff.get(admin_url(obj, view)).status_code == 403, view
    assert otp_staff.get(admin_url(obj, "changelist") + "add/").status_code == 403
    assert otp_staff.post(admin_url(obj, "delete"), {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_staff_never_see_a_devices_secret_or_qr_code(otp_staff, credentials):
    device = credentials["device"]
    for view in ("config", "qrcode"):
        res = otp_staff.get(admin_url(device, view))
        assert res.status_code == 403
        assert device.key not in res.content.decode()


def test_the_index_lists_no_device_or_token_admin_for_staff(otp_staff, credentials):
    res = otp_staff.get("/admin/")
    assert res.status_code == 200
    apps = {app["app_label"] for app in res.context["app_list"]}
    assert "bots" in apps
    assert not apps & set(OPERATOR_APPS)


def test_staff_cannot_attach_a_device_to_another_user(otp_staff, credentials):
    victim = credentials["device"].user
    res = otp_staff.post(
        "/admin/otp_totp/totpdevice/add/",
        {
            "user": str(victim.pk),
            "name": "mine",
            "confirmed": "on",
            "key": "3132333435363738393031323334353637383930",
            "step": "30",
            "t0": "0",
            "digits": "6",
            "tolerance": "1",
            "drift": "0",
            "throttling_failure_count": "0",
        },
    )
    assert res.status_code == 403
    assert not TOTPDevice.objects.filter(user=victim, name="mine").exists()


def test_superusers_keep_devices_and_tokens_but_not_existing_secrets(superuser, credentials):
    for kind in ("device", "outstanding", "blacklisted"):
        obj = credentials[kind]
        assert superuser.get(admin_url(obj, "changelist")).status_code == 200
        assert superuser.get(admin_url(obj)).status_code == 200
    device = credentials["device"]
    page = superuser.get(admin_url(device)).content.decode()
    assert device.key not in page
    assert superuser.get(admin_url(device, "config")).status_code == 403
    assert superuser.get(admin_url(device, "qrcode")).status_code == 403
    # Adding a device (its key is set then) stays possible for operators.
    assert superuser.get("/admin/otp_totp/totpdevice/add/").status_code == 200


def test_every_admin_is_tenant_scoped_or_superuser_only():
    ours = (TenantScopedAdminMixin, TenantAdmin, TenantUserAdmin, SuperuserGroupAdmin)
    loose = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, (*ours, SuperuserOnlyAdminMixin))
    ]
    assert loose == []
    for model in (TOTPDevice, OutstandingToken, BlacklistedToken):
        assert isinstance(admin.site.get_model_admin(model), SuperuserOnlyAdminMixin)


def _tenant_form(tenant, **overrides) -> dict:
    """The admin change form of ``tenant`` as stored (``is_active`` ticked), with overrides."""
    data = {
        "slug": tenant.slug,
        "name": tenant.name,
        "default_model": tenant.default_model,
        "default_rate_limit": tenant.default_rate_limit,
        "quotas": "{}",
        "is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_tenant_admins_cannot_suspend_or_rename_their_tenant(staff, tenant):
    page = staff.get(admin_url(tenant))
    assert page.status_code == 200
    fields = page.context["adminform"].form.fields
    assert "is_active" not in fields
    assert "slug" not in fields
    assert "name" in fields
    res = staff.post(
        admin_url(tenant), _tenant_form(tenant, is_active=None, slug="taken", name="A2")
    )
    assert res.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.is_active, tenant.slug, tenant.name) == (True, "acme", "A2")
    # Still signed in to their tenant's data.
    assert staff.get("/admin/bots/bot/").status_code == 200


def test_superusers_suspend_and_rename_tenants(superuser, tenant):
    res = superuser.post(admin_url(tenant), _tenant_form(tenant, is_active=None, slug="acme-old"))
    assert res.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.is_active, tenant.slug) == (False, "acme-old")
