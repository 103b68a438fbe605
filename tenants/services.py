from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from tenants.models import Membership, Tenant


def tenant_create(*, slug: str, name: str = "", default_rate_limit: str = "") -> Tenant:
    tenant = Tenant(
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        default_rate_limit=default_rate_limit,
    )
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def user_create(
    *,
    tenant: Tenant,
    username: str,
    password: str | None = None,
    role: str = Membership.Role.MEMBER,
    email: str = "",
    is_staff: bool = False,
):
    """Create (or reuse) a user and give them a membership in the tenant."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if created or password:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
    if is_staff:
        user.is_staff = True
    user.save()
    Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": role})
    return user


TENANT_FIELDS = ("name", "default_model", "default_rate_limit", "quotas")


def tenant_update(*, tenant: Tenant, data: dict) -> Tenant:
    """Update the tenant's settings (name, default model, default rate limit, quotas)."""
    from django.core.exceptions import ValidationError

    from tenants.auth import invalidate_key_cache
    from tenants.views import invalid

    tenant = Tenant.objects.get(pk=tenant.pk)  # a fresh row, never the cached auth copy
    for field in TENANT_FIELDS:
        if field in data:
            setattr(tenant, field, data[field])
    try:
        # Quotas stored before they were validated do not block a change of something else.
        tenant.full_clean(exclude=None if "quotas" in data else ["quotas"])
    except ValidationError as exc:
        raise invalid(exc) from None
    tenant.save()
    invalidate_key_cache(tenant_id=tenant.id)  # the new default rate limit applies at once here
    return tenant


def tenant_deactivate(*, tenant: Tenant) -> Tenant:
    """Suspend a tenant: its keys and users stop working (other processes within the key cache
    time, API_KEY_CACHE_SECONDS)."""
    from tenants.auth import invalidate_key_cache

    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    tenant.is_active = False
    invalidate_key_cache(tenant_id=tenant.id)
    return tenant
