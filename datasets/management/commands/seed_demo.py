"""seed_demo: an idempotent demo tenant with the project's own docs, a bot, a scope and a key.

- tenant ``demo``; dataset ``Product docs`` = ``docs/*.md`` + ``README.md``, ingested here,
  synchronously, so the demo answers as soon as ``make run`` serves;
- bot ``demo`` (hybrid retrieval) with scope ``demo``;
- user ``demo-admin`` (owner): password from ``DEMO_PASSWORD``, else generated and printed once;
- an API key (chat + read) saved to ``<data dir>/demo_api_key`` (mode 600); recreated when the
  file is missing or the key no longer works.
Running it again changes nothing unless a file changed (then that document is replaced).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apikeys.authentication import context_for_key
from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke
from bots.models import Bot, Scope
from bots.services import bot_create, bot_update, scope_create, scope_update
from datasets import services
from datasets.ingestion import Skipped, process_document
from datasets.models import Document
from tenants.models import Membership, Tenant
from tenants.services import tenant_create, user_create

TENANT = "demo"
DATASET = "Product docs"
BOT = "demo"
USER = "demo-admin"
WIDGET_KEY_NAME = "demo widget key"
KEY_NAME = "demo key"
SYSTEM_PROMPT = (
    "You are the assistant for this chatbot platform's documentation. Answer questions about "
    "running, configuring and using the platform (its API, bots, datasets and web widget) "
    "from the provided context only, citing the sources you used. If the context does not "
    "contain the answer, say so plainly and suggest where in the docs to look."
)


def default_key_file() -> Path:
    from chatbot_project import embedded

    return embedded.DATA_DIR / "demo_api_key"


def demo_sources() -> list[Path]:
    base = Path(settings.BASE_DIR)
    files = sorted((base / "docs").glob("*.md"))
    if (base / "README.md").exists():
        files.append(base / "README.md")
    return files


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ").title()


class Command(BaseCommand):
    help = "Create or refresh the demo tenant, dataset (the project's docs), bot, user and key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--key-file", type=Path, default=None, help="where to save the key")

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = Tenant.objects.filter(slug=TENANT).first() or tenant_create(
            slug=TENANT, name="Demo"
        )
        dataset, _ = services.dataset_get_or_create(tenant=tenant, name=DATASET)
        self._ingest(tenant, dataset)
        scope = self._scope(tenant, dataset)
        bot = self._bot(tenant, dataset, scope)
        self._user(tenant)
        key_file = opts["key_file"] or default_key_file()
        self._key(tenant, key_file, name=KEY_NAME, permissions=("chat", "read"))
        # The /demo/ page is public: it embeds a browser key (chat only, this bot, local origins).
        port = os.environ.get("PORT", "8000")
        self._key(
            tenant,
            key_file.with_name("demo_widget_key"),
            name=WIDGET_KEY_NAME,
            permissions=("chat",),
            bots=[bot],
            origins=(f"http://127.0.0.1:{port}", f"http://localhost:{port}"),
        )

    def _ingest(self, tenant: Tenant, dataset: Any) -> None:
        sources = demo_sources()
        keep: set = set()
        for path in sources:
            doc, _ = services.document_create_from_path(
                tenant=tenant, dataset=dataset, path=path, title=_title(path), enqueue=False
            )
            keep.add(doc.pk)
            if doc.status != Document.Status.READY:
                with contextlib.suppress(Skipped):
                    process_document(doc.pk)
                doc.refresh_from_db()
                self.stdout.write(f"demo: {path.name} {doc.status} ({doc.chunk_count} chunks)")
            # A changed file is a new document (new content hash): drop the old version.
            stale = (
                Document.objects.for_tenant(tenant)
                .filter(dataset=dataset, original_filename=path.name)
                .exclude(pk=doc.pk)
            )
            for old in stale:
                services.document_delete(tenant=tenant, document=old)
        names = {p.name for p in sources}
        for old in Document.objects.for_tenant(tenant).filter(dataset=dataset).exclude(pk__in=keep):
            if old.original_filename not in names:  # a doc page that no longer exists
                services.document_delete(tenant=tenant, document=old)

    def _scope(self, tenant: Tenant, dataset: Any) -> Scope:
        scope = Scope.objects.for_tenant(tenant).filter(slug="demo").first()
        data = {"name": "Demo", "slug": "demo", "datasets": [dataset.pk]}
        if scope is None:
            return scope_create(tenant=tenant, data=data)
        return scope_update(tenant=tenant, scope=scope, data={"datasets": [dataset.pk]})

    def _bot(self, tenant: Tenant, dataset: Any, scope: Scope) -> Bot:
        bot = Bot.objects.for_tenant(tenant).filter(slug=BOT).first()
        if bot is None:
            return bot_create(
                tenant=tenant,
                data={
                    "name": "Demo",
                    "slug": BOT,
                    "system_prompt": SYSTEM_PROMPT,
                    "datasets": [dataset.pk],
                    "retrieval": {"mode": "hybrid", "top_k": 5},
                    "default_scope": scope.pk,
                },
            )
        return bot_update(tenant=tenant, bot=bot, data={"datasets": [dataset.pk]})

    def _user(self, tenant: Tenant) -> None:
        password = os.environ.get("DEMO_PASSWORD") or None
        exists = get_user_model().objects.filter(username=USER).exists()
        if exists and password is None:
            user_create(tenant=tenant, username=USER, role=Membership.Role.OWNER)
            return
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        user_create(tenant=tenant, username=USER, password=password, role=Membership.Role.OWNER)
        if generated:
            self.stdout.write(
                f"demo: user {USER!r} (owner of tenant {TENANT!r}) has the password {password} "
                "(shown once; set DEMO_PASSWORD to choose it)."
            )

    def _key(
        self,
        tenant: Tenant,
        key_file: Path,
        *,
        name: str,
        permissions: tuple[str, ...],
        bots: list[Bot] | None = None,
        origins: tuple[str, ...] = (),
    ) -> None:
        if key_file.exists():
            raw = key_file.read_text().strip()
            ctx = context_for_key(raw)
            if (
                ctx is not None
                and ctx.tenant.pk == tenant.pk
                and set(ctx.allowed_origins) == set(origins)
            ):
                return
        for old in APIKey.objects.for_tenant(tenant).filter(name=name, revoked_at__isnull=True):
            api_key_revoke(tenant=tenant, key=old)  # its raw value is lost: retire it
        _, raw = api_key_create(
            tenant=tenant,
            name=name,
            permissions=permissions,
            bots=bots or (),
            allowed_origins=origins,
        )
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(raw + "\n")
        os.chmod(key_file, 0o600)
        self.stdout.write(f"demo: API key ({', '.join(permissions)}) saved to {key_file}")
