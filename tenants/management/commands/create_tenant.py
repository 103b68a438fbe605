from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from rest_framework.exceptions import ValidationError as InvalidValue

from chatbot_project.commands import CheckedCommand, check_text
from tenants.models import Tenant
from tenants.services import tenant_create
from tenants.views import validate_rate_limit

# The model's field names as this command's arguments, for its error sentences.
ARGUMENTS = {"slug": "slug", "name": "--name", "default_rate_limit": "--rate-limit"}


class Command(CheckedCommand):
    help = "Create a tenant: create_tenant <slug> [--name N] [--rate-limit 60/m]."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "slug",
            help="the tenant's id in commands and X-Tenant: lowercase letters, digits, hyphens",
        )
        parser.add_argument("--name", default="", help="display name (default: made from the slug)")
        parser.add_argument("--rate-limit", default="", help='default rate limit, e.g. "60/m"')

    def handle(self, *args: Any, slug: str, name: str, rate_limit: str, **opts: Any) -> None:
        check_text(name, "--name", controls=True)
        # Trimmed as the API trims it (PATCH /v1/tenant refuses a blank name): "   " was stored.
        if name and not name.strip():
            raise CommandError(
                "--name is blank; give a name, or leave --name out for one made from the slug."
            )
        name = name.strip()
        # The API's rule (PATCH /v1/tenant): the model's pattern alone let "0/m" through, a
        # value the rate limiter then ignores.
        try:
            validate_rate_limit(rate_limit)
        except InvalidValue as exc:
            raise CommandError(f"--rate-limit: {exc.detail[0]}") from None
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"Tenant {slug!r} already exists.")
        try:
            tenant = tenant_create(slug=slug, name=name, default_rate_limit=rate_limit)
        except ValidationError as exc:  # tenant_create's full_clean(): the API's validation
            field, messages = next(iter(exc.message_dict.items()))
            raise CommandError(f"{ARGUMENTS.get(field, field)}: {messages[0]}") from None
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}), id {tenant.id}")
