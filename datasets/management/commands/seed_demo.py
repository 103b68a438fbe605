"""seed_demo: an idempotent demo tenant with the project's own docs, a bot, a scope and a key.

- tenant ``demo``; dataset ``Product docs`` = ``docs/*.md`` + ``README.md``, ingested here,
  synchronously, so the demo answers as soon as ``make run`` serves;
- bot ``demo`` (hybrid retrieval) with scope ``demo``;
- user ``demo-admin`` (owner): password from ``DEMO_PASSWORD``, else generated and printed once;
- an API key (chat + read) saved to ``<data dir>/demo_api_key`` (mode 600), and a browser key
  saved beside it to ``demo_widget_key``; each recreated when its file is missing or its key no
  longer works.
Running it again changes nothing unless a file changed (then that document is replaced).

Replacing a key revokes only keys written to that same file: the one whose value the file held,
and earlier ones written there whose value was lost (a deleted file). The keys are named after
their file to tell them apart ("demo key" for the default file, "demo key (/path/file)" for
another ``--key-file``), so a run with another ``--key-file`` leaves the first file's key working.
Both files are checked to be writable before anything is created or revoked.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from apikeys import keys
from apikeys.authentication import context_for_key
from apikeys.models import APIKey
from apikeys.services import api_key_create, api_key_revoke
from bots.models import Bot, Scope
from bots.services import bot_create, bot_update, scope_create, scope_update
from chatbot_project.commands import CheckedCommand, chunks_label
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
WIDGET_KEY_FILE = "demo_widget_key"  # beside the key file
SYSTEM_PROMPT = (
    "You are the assistant for this chatbot platform's documentation. Answer questions about "
    "running, configuring and using the platform (its API, bots, datasets and web widget) "
    "from the provided context only, citing the sources you used. If the context does not "
    "contain the answer, say so plainly and suggest where in the docs to look."
)


def default_key_file() -> Path:
    from chatbot_project import embedded

    return embedded.DATA_DIR / "demo_api_key"


def key_name(base: str, key_file: Path, default_file: Path) -> str:
    """The name of the key written to ``key_file``: ``base`` for the default file, else the
    file's path in brackets (within the 200 characters of APIKey.name)."""
    if key_file.absolute() == default_file.absolute():
        return base
    where = str(key_file.absolute())
    if len(base) + len(where) + 3 > 200:
        where = "…" + where[-(196 - len(base)) :]
    return f"{base} ({where})"


def check_writable(key_file: Path) -> None:
    """CommandError unless a key can be saved to ``key_file`` (its folder is created)."""
    if key_file.is_dir():
        raise CommandError(f"--key-file {key_file} is a folder; give the path of a file.")
    try:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=key_file.parent, prefix=".seed_demo-"):
            pass
    except OSError as exc:
        raise CommandError(
            f"Cannot write the key file {key_file} ({exc.strerror or exc}); "
            "pass a --key-file in a writable folder."
        ) from None


def write_secret(key_file: Path, text: str) -> None:
    """Replace ``key_file`` with ``text`` (mode 600) at once: never a half-written key."""
    fd, tmp = tempfile.mkstemp(dir=key_file.parent, prefix=".seed_demo-")  # mode 600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, key_file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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


class Command(CheckedCommand):
    help = (
        "Create or refresh the demo tenant, dataset (the project's docs), bot, user and keys: a "
        "chat + read key saved to --key-file (default .data/demo_api_key) and the /demo/ page's "
        "browser key saved beside it as demo_widget_key."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--key-file", type=Path, default=None, help="where to save the key")

    def handle(self, *args: Any, **opts: Any) -> None:
        key_file = Path(opts["key_file"] or default_key_file())
        if not key_file.name:  # "" (argparse makes it "."), "/"
            raise CommandError(f"--key-file {str(key_file)!r} is not a file name; give a path.")
        if key_file.name == WIDGET_KEY_FILE:
            raise CommandError(
                f"--key-file cannot be named {WIDGET_KEY_FILE}: the browser key is saved under "
                "that name beside the key file, and one would overwrite the other."
            )
        widget_file = key_file.with_name(WIDGET_KEY_FILE)
        for path in (key_file, widget_file):  # before anything changes: a key must not be lost
            check_writable(path)
        tenant = Tenant.objects.filter(slug=TENANT).first() or tenant_create(
            slug=TENANT, name="Demo"
        )
        dataset, _ = services.dataset_get_or_create(tenant=tenant, name=DATASET)
        self._ingest(tenant, dataset)
        scope = self._scope(tenant, dataset)
        bot = self._bot(tenant, dataset, scope)
        self._user(tenant)
        default = default_key_file()
        self._key(tenant, key_file, default, name=KEY_NAME, permissions=("chat", "read"))
        # The /demo/ page is public: it embeds a browser key (chat only, this bot, local origins).
        port = os.environ.get("PORT", "8000")
        self._key(
            tenant,
            widget_file,
            default.with_name(WIDGET_KEY_FILE),
            name=WIDGET_KEY_NAME,
            permissions=("chat",),
            bots=[bot],
            origins=(f"http://127.0.0.1:{port}", f"http://localhost:{port}"),
        )
        # Always one line saying where things are: a re-run that changed nothing said nothing.
        docs = Document.objects.for_tenant(tenant).filter(dataset=dataset)
        ready = docs.filter(status=Document.Status.READY)
        chunks = sum(ready.values_list("chunk_count", flat=True))
        self.stdout.write(
            f"demo: tenant {TENANT!r}, bot {bot.slug!r}: {ready.count()} of {docs.count()} "
            f"documents ready ({chunks} chunks); chat + read key in {key_file}, browser key "
            f"(for http://localhost:{port}/demo/) in {widget_file}."
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
                self.stdout.write(
                    f"demo: {path.name} {doc.status} ({chunks_label(doc.chunk_count)})"
                )
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
        default_file: Path,
        *,
        name: str,
        permissions: tuple[str, ...],
        bots: list[Bot] | None = None,
        origins: tuple[str, ...] = (),
    ) -> None:
        """Keep the key in ``key_file`` if it still works, else save a new one there (named
        ``name``, with the file's path unless it is ``default_file``) and revoke only keys
        written to this file (module doc)."""
        label = key_name(name, key_file, default_file)
        replaced: APIKey | None = None  # the key whose value is in the file, if ours
        raw = _read_key(key_file)
        if keys.looks_valid(raw):
            ctx = context_for_key(raw)
            if (
                ctx is not None
                and ctx.tenant.pk == tenant.pk
                and set(ctx.allowed_origins) == set(origins)
            ):
                return
            replaced = (
                APIKey.objects.for_tenant(tenant)
                .filter(prefix=keys.public_prefix(raw), revoked_at__isnull=True)
                .first()
            )
            # Only a key this command wrote ("demo key" was every file's name before).
            if replaced is not None and not (
                keys.matches(raw, replaced.key_hash) and replaced.name in {label, name}
            ):
                replaced = None
        # Earlier keys written to this file whose value is lost (the file was deleted).
        lost = APIKey.objects.for_tenant(tenant).filter(name=label, revoked_at__isnull=True)
        with transaction.atomic():  # the key is only created if the file gets it
            _, new_raw = api_key_create(
                tenant=tenant,
                name=label,
                permissions=permissions,
                bots=bots or (),
                allowed_origins=origins,
            )
            write_secret(key_file, new_raw + "\n")
            for old in {*lost.exclude(prefix=keys.public_prefix(new_raw)), replaced} - {None}:
                api_key_revoke(tenant=tenant, key=old)
        self.stdout.write(f"demo: API key ({', '.join(permissions)}) saved to {key_file}")


def _read_key(key_file: Path) -> str:
    """The key saved in ``key_file``, or "" when there is none (missing, unreadable, garbage)."""
    try:
        return key_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
