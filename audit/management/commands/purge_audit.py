"""Delete audit events older than the retention period, for operators."""

from __future__ import annotations

from django.core.management.base import CommandError

from audit.models import AuditEvent
from audit.services import audit_purge
from chatbot_project.commands import CheckedCommand
from conversations.management.commands.purge_conversations import cutoff_for, parse_age
from tenants.models import Tenant


class Command(CheckedCommand):
    help = "Delete audit events older than --older-than (e.g. 365d), of one tenant or all."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", required=True, help="age in d, h, min or w: 365d, 52w")
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, older_than: str, tenant: str | None, dry_run: bool, **opts) -> None:
        if tenant is not None and not tenant.strip():
            # An empty --tenant "$VAR" must not widen the purge to every tenant.
            raise CommandError(
                "--tenant is empty; give a tenant's slug, or leave --tenant out to purge "
                "every tenant."
            )
        cutoff = cutoff_for(parse_age(older_than), older_than)
        chosen = None
        if tenant:
            chosen = Tenant.objects.filter(slug=tenant).first()
            if chosen is None:
                raise CommandError(f"No tenant {tenant!r}.")
        where = f" of tenant {tenant!r}" if tenant else ""
        if dry_run:
            qs = AuditEvent.objects.filter(created_at__lt=cutoff)
            count = (qs.for_tenant(chosen) if chosen else qs).count()
            self.stdout.write(
                f"{count} audit event(s){where} older than {older_than} would be deleted."
            )
            return
        count = audit_purge(before=cutoff, tenant=chosen)
        self.stdout.write(
            f"Deleted {count} audit event(s){where} created before {cutoff:%Y-%m-%d %H:%M} UTC."
        )
