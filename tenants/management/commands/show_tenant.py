"""show_tenant [SLUG]: what a headless operator would otherwise open the admin for.

Without a slug: one line per tenant (active or suspended, its datasets, documents, bots, active
keys, members). With one: its datasets (documents by status, chunks, failures with their
sentence), bots, scopes, API keys (prefix, permissions, limits, last use; revoked and expired
ones marked) and members, then its quota use. Read-only.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.db.models import Count, Q, Sum
from django.utils import timezone

from apikeys.models import APIKey
from bots.models import Bot, Scope
from chatbot_project.commands import CheckedCommand
from datasets.models import Dataset, Document
from datasets.text_search import missing_languages
from tenants.models import Membership, Tenant
from tenants.quotas import usage

FAILED_SHOWN = 5  # failed documents listed per dataset (with why), the rest counted


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


class Command(CheckedCommand):
    help = "List tenants, or show one tenant's datasets, bots, scopes, keys and members."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug", nargs="?", help="a tenant's slug (none: list every tenant)")

    def handle(self, *args: Any, slug: str | None, **opts: Any) -> None:
        if slug is None:
            return self._list()
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:20])
            raise CommandError(f"No tenant {slug!r} (tenants: {known or 'none yet'}).")
        self._show(tenant)
        return None

    def _list(self) -> None:
        tenants = list(Tenant.objects.order_by("slug"))
        if not tenants:
            self.stdout.write("No tenants yet: manage.py create_tenant <slug>.")
            return
        ids = [t.id for t in tenants]
        now = timezone.now()

        def per_tenant(qs: Any) -> dict[Any, int]:
            rows = qs.filter(tenant_id__in=ids).values("tenant_id").annotate(n=Count("id"))
            return {r["tenant_id"]: r["n"] for r in rows}

        counts = {
            "datasets": per_tenant(Dataset.objects.all()),
            "documents": per_tenant(Document.objects.all()),
            "bots": per_tenant(Bot.objects.all()),
            "keys": per_tenant(
                APIKey.objects.filter(revoked_at__isnull=True).filter(
                    Q(expires_at__isnull=True) | Q(expires_at__gt=now)
                )
            ),
            "members": per_tenant(Membership.objects.all()),
        }
        self.stdout.write("slug | name | state | datasets | documents | bots | keys | members")
        for t in tenants:
            row = [str(counts[k].get(t.id, 0)) for k in counts]
            state = "active" if t.is_active else "suspended"
            self.stdout.write(f"{t.slug} | {t.name} | {state} | " + " | ".join(row))

    def _show(self, tenant: Tenant) -> None:
        out = self.stdout.write
        state = "active" if tenant.is_active else "SUSPENDED (its keys and staff are refused)"
        out(f"Tenant {tenant.slug} ({tenant.name}), {state}, id {tenant.id}")
        out(f"  created {_when(tenant.created_at)}; default model {tenant.default_model or '-'}")
        self._datasets(tenant)
        self._bots(tenant)
        self._keys(tenant)
        members = Membership.objects.for_tenant(tenant).select_related("user").order_by("role")
        out(f"Members ({members.count()}):")
        for m in members:
            out(f"  {m.user.username} ({m.role}){'' if m.user.is_active else ', inactive'}")
        used = usage(tenant)
        quotas = tenant.quotas or {}
        out("Quotas (used / limit):")
        for name, value in used.items():
            limit = quotas.get("max_storage_mb" if name == "storage_mb" else f"max_{name}", "-")
            out(f"  {name}: {value} / {limit}")

    def _datasets(self, tenant: Tenant) -> None:
        out = self.stdout.write
        datasets = list(Dataset.objects.for_tenant(tenant).order_by("name"))
        docs = Document.objects.for_tenant(tenant)
        # Documents by (dataset, status) and the ready ones' chunks in one query, not per dataset.
        by_status: dict[Any, dict[str, int]] = {}
        chunks: dict[Any, int] = {}
        for row in docs.values("dataset_id", "status").annotate(
            n=Count("id"), c=Sum("chunk_count")
        ):
            by_status.setdefault(row["dataset_id"], {})[row["status"]] = row["n"]
            if row["status"] == Document.Status.READY:
                chunks[row["dataset_id"]] = row["c"] or 0
        gone = {row[0] for row in missing_languages(tenant_id=tenant.id)}
        out(f"Datasets ({len(datasets)}):")
        for ds in datasets:
            counts = by_status.get(ds.id, {})
            states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no documents"
            out(f"  {ds.name} ({states}; {chunks.get(ds.id, 0)} chunks) id {ds.id}")
            if ds.id in gone:
                out(
                    f"    WARNING: its language {ds.language!r} no longer exists on the database "
                    "server: keyword/hybrid search and ingestion fail. Re-create it and run "
                    "`manage.py reindex_text`, or PATCH the dataset's language."
                )
            failed = counts.get(Document.Status.FAILED, 0)
            if not failed:
                continue
            recent = docs.filter(dataset=ds, status=Document.Status.FAILED).order_by("-updated_at")
            for doc in recent[:FAILED_SHOWN]:
                out(f"    failed: {doc.title or doc.id}: {doc.error or 'no reason stored'}")
            if failed > FAILED_SHOWN:
                out(f"    ... and {failed - FAILED_SHOWN} more failed")

    def _bots(self, tenant: Tenant) -> None:
        out = self.stdout.write
        bots = Bot.objects.for_tenant(tenant).prefetch_related("datasets").order_by("slug")
        out(f"Bots ({bots.count()}):")
        for bot in bots:
            names = ", ".join(sorted(d.name for d in bot.datasets.all())) or "no datasets"
            off = "" if bot.is_active else ", switched off"
            out(
                f"  {bot.slug} ({bot.name}): {names}; {bot.retrieval_mode}, top_k {bot.top_k}, "
                f"model {bot.model or 'default'}{off}"
            )
        scopes = Scope.objects.for_tenant(tenant).order_by("slug")
        out(f"Scopes ({scopes.count()}):")
        for scope in scopes:
            tags = f"tags {', '.join(scope.document_tags)}" if scope.document_tags else "no tags"
            out(f"  {scope.slug} ({scope.name}): {tags}")

    def _keys(self, tenant: Tenant) -> None:
        out = self.stdout.write
        now = timezone.now()
        keys = APIKey.objects.for_tenant(tenant).prefetch_related("bots", "scopes")
        out(f"API keys ({keys.count()}):")
        for key in keys.order_by("revoked_at", "-created_at"):
            limits = []
            if key.limited_to_bots:
                limits.append("bots " + ", ".join(sorted(b.slug for b in key.bots.all())))
            if key.limited_to_scopes:
                limits.append("scopes " + ", ".join(sorted(s.slug for s in key.scopes.all())))
            if key.allowed_origins:
                limits.append("browser key for " + ", ".join(key.allowed_origins))
            if key.revoked_at:
                limits.append(f"REVOKED {_when(key.revoked_at)}")
            elif key.expires_at and key.expires_at <= now:
                limits.append(f"EXPIRED {_when(key.expires_at)}")
            elif key.expires_at:
                limits.append(f"expires {_when(key.expires_at)}")
            extra = f"; {'; '.join(limits)}" if limits else ""
            out(
                f"  {key.prefix}… {key.name!r}: {','.join(key.permissions)}{extra}; "
                f"last used {_when(key.last_used_at)}"
            )
