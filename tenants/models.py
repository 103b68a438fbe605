"""Tenant, Membership and the abstract base every tenant-owned model inherits."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    "Use 1-64 lowercase letters, digits and hyphens (not at the ends).",
)
rate_limit_validator = RegexValidator(
    r"^\d{1,7}/(s|m|h|d)$", 'Use "<count>/<s|m|h|d>", for example "60/m".'
)


def validate_quotas(value: object) -> None:
    """Known keys (``tenants.quotas``), each a whole number >= 0 or null; else one message per
    key, "<key>: <problem>"."""
    from django.core.exceptions import ValidationError

    from tenants.quotas import quota_problems

    problems = quota_problems(value)
    if problems:
        raise ValidationError([f"{key}: {message}" for key, message in problems.items()])


class Tenant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    default_model = models.CharField(max_length=100, blank=True, default="")
    default_rate_limit = models.CharField(
        max_length=20, blank=True, default="", validators=[rate_limit_validator]
    )
    quotas = models.JSONField(default=dict, blank=True, validators=[validate_quotas])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        return self.filter(tenant_id=tenant.id)

    def locked_row(self, tenant: Tenant, pk: object) -> models.Model | None:
        """The row ``pk`` of ``tenant`` as it is now, locked until the transaction ends (FOR NO
        KEY UPDATE: inserting rows that reference it goes on); None when it was deleted. For
        an update that must apply its fields to the row as a concurrent one left it."""
        return self.for_tenant(tenant).select_for_update(no_key=True).filter(pk=pk).first()


class TenantOwned(models.Model):
    """Base of all tenant data: UUID key, tenant FK (indexes start with it), timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Membership(TenantOwned):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")
        ]
        indexes = [models.Index(fields=["user"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.tenant_id} ({self.role})"
