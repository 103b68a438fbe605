from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError

from chatbot_project.commands import CheckedCommand, check_text
from tenants.models import Tenant
from tenants.services import tenant_delete, tenant_footprint


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class Command(CheckedCommand):
    help = (
        "Delete a tenant and everything it owns (bots, datasets, documents and their stored "
        "files, conversations, API keys, memberships): delete_tenant <slug>. Shows what goes "
        "and asks you to type the slug again, unless --yes."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug", help="the tenant to delete")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument(
            "--with-users", action="store_true",
            help="also delete the users who belong to no other tenant (never superusers)",
        )  # fmt: skip

    def handle(self, *args: Any, slug: str, yes: bool, with_users: bool, **opts: Any) -> None:
        check_text(slug, "slug", controls=True)
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20])
            raise CommandError(f"No tenant {slug!r}. Tenants: {known or 'none'}.")
        f = tenant_footprint(tenant=tenant)
        n = _counted
        self.stdout.write(
            f"Tenant {tenant.slug} ({tenant.name}) holds {n(f['bots'], 'bot')}, "
            f"{n(f['datasets'], 'dataset')}, {n(f['documents'], 'document')} "
            f"({n(f['chunks'], 'chunk')}; {n(f['stored_files'], 'stored file')}, "
            f"{_size(f['stored_bytes'])}), {n(f['conversations'], 'conversation')} "
            f"({n(f['messages'], 'message')}), {n(f['api_keys'], 'API key')}, "
            f"{n(f['memberships'], 'membership')}; "
            + (
                "1 user belongs"
                if f["users_left_without_tenant"] == 1
                else f"{f['users_left_without_tenant']} users belong"
            )
            + " to no other tenant "
            + ("(deleted too: --with-users)." if with_users else "(kept: --with-users deletes).")
        )
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Nothing deleted: confirm with --yes when not at a terminal.")
            answer = self.prompt(
                input, f"Type the slug ({tenant.slug}) to delete all of this for good: "
            )
            if answer.strip() != tenant.slug:
                raise CommandError("Nothing deleted: the slug did not match.")
        tenant_delete(tenant=tenant, with_users=with_users)
        self.stdout.write(f"Deleted tenant {slug} and everything it owned.")


def _counted(count: int, noun: str) -> str:
    """``1 bot``, ``2 bots``: the summary read "1 conversations" (fresh-clone review)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
