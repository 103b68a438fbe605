from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from tenants.models import TenantOwned, rate_limit_validator

PERMISSIONS = ("chat", "read", "write", "admin")


class APIKey(TenantOwned):
    """Only a public prefix and an HMAC of the key are stored; the key itself is shown once."""

    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=24, unique=True)
    key_hash = models.CharField(max_length=64)
    permissions = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    bots = models.ManyToManyField("bots.Bot", blank=True, related_name="+")
    scopes = models.ManyToManyField("bots.Scope", blank=True, related_name="+")
    # Whether the key is limited to its ``bots`` / ``scopes``: kept apart from the lists, which
    # shrink when a bot or scope is deleted, so a key whose last one went is limited to nothing
    # (an empty list alone would read as "every bot" and lift the limit).
    limited_to_bots = models.BooleanField(
        default=False, help_text="Only the bots listed (none, once they are all deleted)."
    )
    limited_to_scopes = models.BooleanField(
        default=False, help_text="Only the scopes listed (none, once they are all deleted)."
    )
    rate_limit = models.CharField(
        max_length=20, blank=True, default="", validators=[rate_limit_validator]
    )
    allowed_origins = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    rotated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The key this one replaced (POST /v1/api-keys/{id}/rotate).",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["tenant", "-created_at"], name="apikey_tenant_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(permissions__contained_by=list(PERMISSIONS)),
                name="apikey_known_permissions",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
