from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from chatbot_project.commands import CheckedCommand, check_text
from tenants.models import Tenant
from tenants.services import tenant_create


class Command(CheckedCommand):
    help = "Create a tenant: create_tenant <slug> [--name N] [--rate-limit 60/m]."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--rate-limit", default="", help='default rate limit, e.g. "60/m"')

    def handle(self, *args: Any, slug: str, name: str, rate_limit: str, **opts: Any) -> None:
        check_text(name, "--name", controls=True)
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"Tenant {slug!r} already exists.")
        # tenant_create's full_clean() is the API's validation; a ValidationError becomes a
        # CommandError in CheckedCommand.
        tenant = tenant_create(slug=slug, name=name, default_rate_limit=rate_limit)
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}), id {tenant.id}")
