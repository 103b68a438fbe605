from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant: create_tenant <slug> [--name N] [--rate-limit 60/m]."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--rate-limit", default="", help='default rate limit, e.g. "60/m"')

    def handle(self, *args: Any, slug: str, name: str, rate_limit: str, **opts: Any) -> None:
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"Tenant {slug!r} already exists.")
        try:
            tenant = tenant_create(slug=slug, name=name, default_rate_limit=rate_limit)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}), id {tenant.id}")
