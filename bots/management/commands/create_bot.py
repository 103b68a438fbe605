"""create_bot --tenant <slug> --name N [--slug S] [--datasets a,b] [--system-prompt TEXT] ...

A bot from the command line, validated exactly as ``POST /v1/bots`` validates it (the API's
serializer and service: same limits, same sentences, the tenant's bot quota, a taken slug
refused). Datasets and the default scope are named as the operator knows them: a dataset by its
name (what ``ingest --dataset`` took) or id, a scope by slug or id. Prints the bot's slug alone on
the last line of stdout, for scripts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from bots.cli import datasets_named, one, refs, tenant_named
from bots.models import Bot, Scope
from bots.serializers import BotSerializer, RetrievalSerializer
from bots.services import bot_create
from chatbot_project.commands import CheckedCommand, check_text, validated
from datasets.models import Dataset, Document
from tenants.models import Tenant

# The API's field names as this command's options, for its error sentences.
OPTIONS = {
    "name": "--name", "slug": "--slug", "system_prompt": "--system-prompt", "model": "--model",
    "temperature": "--temperature", "max_tokens": "--max-tokens", "default_scope": "--scope",
    "top_k": "--top-k", "score_threshold": "--score-threshold", "mode": "--mode",
}  # fmt: skip


class Command(CheckedCommand):
    help = (
        "Create a bot (as POST /v1/bots does) and print its slug alone on the last line. "
        "create_bot --tenant <slug> --name N [--slug S] [--datasets name-or-id,...] "
        "[--system-prompt TEXT | --system-prompt-file PATH] [--model M] [--temperature T] "
        "[--max-tokens N] [--top-k K] [--mode hybrid|vector|keyword] [--score-threshold S] "
        "[--scope slug-or-id] [--inactive]"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant (slug)")
        parser.add_argument("--name", required=True, help="display name")
        parser.add_argument("--slug", help="unique in the tenant (default: made from the name)")
        parser.add_argument(
            "--datasets", help="dataset names or ids, comma-separated (default: none yet)"
        )
        prompt = parser.add_mutually_exclusive_group()
        prompt.add_argument("--system-prompt", help="the bot's system prompt")
        prompt.add_argument("--system-prompt-file", help="read the system prompt from this file")
        parser.add_argument("--model", help="chat model (default: the tenant's or instance's)")
        parser.add_argument("--temperature", type=float, help="0..2 (default 0.2)")
        parser.add_argument(
            "--max-tokens", type=int, help="longest answer in tokens, 1..16384 (default 512)"
        )
        parser.add_argument("--top-k", type=int, help="chunks retrieved per question (default 5)")
        parser.add_argument("--mode", help="retrieval: hybrid (default), vector or keyword")
        parser.add_argument("--score-threshold", type=float, help="0..1 (default 0: none)")
        parser.add_argument("--scope", help="default scope, by slug or id")
        parser.add_argument(
            "--inactive", action="store_true", help="create it switched off (is_active false)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = tenant_named(opts["tenant"])
        check_text(opts["name"], "--name", controls=True)
        data: dict[str, Any] = {"name": opts["name"]}
        if opts["system_prompt_file"]:
            data["system_prompt"] = _read_prompt(opts["system_prompt_file"])
        for option in ("slug", "system_prompt", "model", "temperature", "max_tokens"):
            if opts[option] is not None:
                data[option] = opts[option]
        retrieval = {
            key: opts[option]
            for key, option in (("top_k", "top_k"), ("mode", "mode"),
                                ("score_threshold", "score_threshold"))
            if opts[option] is not None
        }  # fmt: skip
        if retrieval:  # first on its own, so an error names the option (--top-k: ...)
            validated(RetrievalSerializer, retrieval, OPTIONS)
            data["retrieval"] = retrieval
        if opts["inactive"]:
            data["is_active"] = False
        datasets = datasets_named(tenant, refs(opts["datasets"], "--datasets"))
        data["datasets"] = [str(d.id) for d in datasets]
        if opts["scope"] is not None:
            scope = one(Scope.objects.for_tenant(tenant), opts["scope"].strip(), "slug")
            if scope is None:
                raise CommandError(f"No scope {opts['scope']!r} in tenant {tenant.slug!r}.")
            data["default_scope"] = str(scope.id)
        names = dict(OPTIONS)
        if opts["system_prompt_file"]:
            names["system_prompt"] = "--system-prompt-file"
        data = validated(BotSerializer, data, names)
        bot = bot_create(tenant=tenant, data=data)
        self._report(tenant, bot, datasets)
        self.stdout.write(bot.slug)

    def _report(self, tenant: Tenant, bot: Bot, datasets: list[Dataset]) -> None:
        ready = Document.objects.for_tenant(tenant).filter(
            dataset__in=datasets, status=Document.Status.READY
        )
        over = (
            f"over {', '.join(repr(d.name) for d in datasets)} ({ready.count()} documents ready)"
            if datasets
            else "over no datasets yet (it refuses or answers without sources until it has "
            "some: PATCH /v1/bots/{id} with datasets, or the admin)"
        )
        state = "" if bot.is_active else ", switched off"
        self.note(
            f"Created bot {bot.slug!r} ({bot.name}) in tenant {tenant.slug} {over}; retrieval "
            f"{bot.retrieval_mode}, top_k {bot.top_k}{state}. Try it: manage.py chat --tenant "
            f"{tenant.slug} --bot {bot.slug}"
        )


def _read_prompt(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"--system-prompt-file {path}: not UTF-8 text.") from None
    except OSError as exc:
        raise CommandError(f"--system-prompt-file {path}: {exc.strerror or exc}.") from None
    check_text(text, "--system-prompt-file")
    return text
