"""create_scope --tenant <slug> --name N [--slug S] [--datasets a,b] [--tags a,b] ...

A scope (what a chat may read, and its guardrails) from the command line, validated exactly as
``POST /v1/scopes`` validates it (the API's serializer and ``bots.services.scope_create``).
Datasets are named as ``ingest --dataset`` named them (or by id). Prints the scope's slug alone
on the last line of stdout, for scripts (``create_bot --scope``, ``create_api_key --scopes``).
"""

from __future__ import annotations

from typing import Any

from bots.cli import datasets_named, refs, tenant_named
from bots.models import Scope
from bots.serializers import ScopeSerializer
from bots.services import scope_create
from chatbot_project.commands import CheckedCommand, check_text, validated
from tenants.models import Tenant

# The API's field names as this command's options, for its error sentences.
OPTIONS = {
    "name": "--name", "slug": "--slug", "document_tags": "--tags",
    "blocked_topics": "--blocked-topics", "blocked_terms": "--blocked-terms",
    "redact_terms": "--redact-terms", "refusal_message": "--refusal-message",
    "max_input_chars": "--max-input-chars",
}  # fmt: skip
LISTS = ("document_tags", "blocked_topics", "blocked_terms", "redact_terms")


class Command(CheckedCommand):
    help = (
        "Create a scope (as POST /v1/scopes does) and print its slug alone on the last line. "
        "create_scope --tenant <slug> --name N [--slug S] [--datasets name-or-id,...] "
        "[--tags a,b] [--blocked-topics a,b] [--blocked-terms a,b] [--redact-terms a,b] "
        "[--refusal-message TEXT] [--require-grounding] [--max-input-chars N]"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant (slug)")
        parser.add_argument("--name", required=True, help="display name")
        parser.add_argument("--slug", help="unique in the tenant (default: made from the name)")
        parser.add_argument(
            "--datasets",
            help="the only datasets its chats may read, names or ids (default: the bot's)",
        )
        parser.add_argument("--tags", help="only documents carrying one of these tags")
        parser.add_argument("--blocked-topics", help="questions on these topics are refused")
        parser.add_argument("--blocked-terms", help="questions with these terms are refused")
        parser.add_argument("--redact-terms", help="removed from answers")
        parser.add_argument("--refusal-message", help="what a refused question is answered")
        parser.add_argument(
            "--require-grounding", action="store_true",
            help="refuse when no passage passes the bot's score threshold",
        )  # fmt: skip
        parser.add_argument("--max-input-chars", type=int, help="longest question accepted")

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = tenant_named(opts["tenant"])
        check_text(opts["name"], "--name", controls=True)
        data: dict[str, Any] = {"name": opts["name"]}
        for field in ("slug", "refusal_message", "max_input_chars"):
            if opts[field] is not None:
                data[field] = opts[field]
        for field in LISTS:
            option = OPTIONS[field]
            value = opts[option[2:].replace("-", "_")]
            if value is not None:
                data[field] = refs(value, option)
        if opts["require_grounding"]:
            data["require_grounding"] = True
        datasets = datasets_named(tenant, refs(opts["datasets"], "--datasets"))
        if datasets:
            data["datasets"] = [str(d.id) for d in datasets]
        data = validated(ScopeSerializer, data, OPTIONS)
        scope = scope_create(tenant=tenant, data=data)
        self.note(_summary(tenant, scope, [d.name for d in datasets]))
        self.stdout.write(scope.slug)


def _summary(tenant: Tenant, scope: Scope, datasets: list[str]) -> str:
    reads = (
        f"reads only {', '.join(repr(n) for n in datasets)}"
        if datasets
        else "reads any of its bot's datasets"
    )
    if scope.document_tags:
        reads += f", documents tagged {', '.join(scope.document_tags)}"
    rules = [
        f"{len(scope.blocked_topics)} blocked topics" if scope.blocked_topics else "",
        f"{len(scope.blocked_terms)} blocked terms" if scope.blocked_terms else "",
        f"{len(scope.redact_terms)} redacted terms" if scope.redact_terms else "",
        "refuses ungrounded questions" if scope.require_grounding else "",
        f"questions up to {scope.max_input_chars} characters" if scope.max_input_chars else "",
    ]
    rules_text = "; ".join(filter(None, rules))
    return (
        f"Created scope {scope.slug!r} ({scope.name}) in tenant {tenant.slug}: {reads}"
        f'{"; " + rules_text if rules_text else ""}. Use it: a chat\'s "scope": '
        f'"{scope.slug}", create_bot --scope {scope.slug}, or create_api_key --scopes '
        f"{scope.slug}."
    )
