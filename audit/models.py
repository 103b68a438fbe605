"""AuditEvent: one change to a tenant's configuration or content, by whom, from where."""

from __future__ import annotations

from django.db import models

from tenants.models import TenantOwned


class AuditEvent(TenantOwned):
    """Append-only: written by ``audit.services.audit_record`` in the transaction of the change,
    read by ``GET /v1/audit`` and the admin, deleted only by ``manage.py purge_audit`` (or with
    its tenant). The actor is kept as text (kind, id, label) so the event outlives the user or
    key that made it; ``changes`` holds field names with small old/new values, never secrets."""

    class ActorType(models.TextChoices):
        USER = "user"  # a staff user (JWT or the admin)
        API_KEY = "api_key"
        CLI = "cli"  # a management command: "cli:<os user>"
        SYSTEM = "system"  # none of these (a worker, a shell)

    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)  # user pk or key uuid
    actor_label = models.CharField(max_length=200, blank=True)  # username, key prefix+name, cli
    action = models.CharField(max_length=64)  # "<object_type>.<verb>": "api_key.revoke"
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    via = models.CharField(max_length=10, blank=True)  # "api", "admin", "cli", ""
    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created_idx"),
            models.Index(fields=["tenant", "object_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_label or self.object_id} by {self.actor_label}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Audit events are append-only; they are never changed.")
        super().save(*args, **kwargs)
