"""Live-server helpers for the hardening tests: start the real ASGI app, seed a tenant through the
public API (API.md), read Server-Sent Events.

Everything goes over HTTP to a real server process (``chatbot_project.testing.processes``); the
tests only use the ORM to create what has no API (the tenant itself and its first admin key).
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

from chatbot_project.testing.processes import child_env, free_port, stop

ADMIN = ("chat", "read", "write", "admin")
# Explicit, very high per-key limit: the fuzzer must never be throttled into proving nothing.
UNLIMITED = "9999999/m"


def stub_env(stub_base_url: str, **extra: str) -> dict[str, str]:
    """Server environment: chat through the local OpenAI stub, documents ingested inline."""
    env = {
        "CHAT_PROVIDER": "openai",
        "OPENAI_BASE_URL": stub_base_url,
        "OPENAI_API_KEY": "sk-stub",
        "CHAT_MODEL": "stub-model",
        "EMBEDDING_PROVIDER": "local",
        "EMBEDDING_MODEL": "local-minilm-l6-v2",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "WARNING",
        # As in production: the chat's DB work runs on worker threads, not the request's thread
        # (whose executor closes with the request, so a save after the client left would fail).
        "CHAT_DB_THREAD_SENSITIVE": "false",
    }
    env.update(extra)
    return env


def offline_env(**extra: str) -> dict[str, str]:
    """Server environment with the offline extractive provider and local embedder (no network)."""
    env = {
        "CHAT_PROVIDER": "extractive",
        "CHAT_MODEL": "extractive",
        "OPENAI_API_KEY": "",
        "EMBEDDING_PROVIDER": "local",
        "EMBEDDING_MODEL": "local-minilm-l6-v2",
        "LOG_LEVEL": "WARNING",
        "CHAT_DB_THREAD_SENSITIVE": "false",
    }
    env.update(extra)
    return env


LOG_DIR = Path(settings.BASE_DIR) / ".data" / "hardening"


def process_env(**extra: str) -> dict[str, str]:
    """Extra environment for a server/worker child: the right test database, then ``extra``."""
    from chatbot_project.testing.processes import test_database_url

    return {"DATABASE_URL": test_database_url(), **extra}


def start_logged_server(*, server: str = "uvicorn", **env: str) -> tuple[subprocess.Popen, str]:
    """``processes.start_server``, with the server's output in a log file for post-mortems."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(LOG_DIR / f"server-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatbot_project.serve"],
        cwd=settings.BASE_DIR,
        env=child_env(**process_env(PORT=str(port), HOST="127.0.0.1", ASGI_SERVER=server, **env)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the ASGI server exited with {proc.returncode}, see {log.name}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.05)
    stop(proc)
    raise TimeoutError("the ASGI server did not start within 30 s")


@contextlib.contextmanager
def live_server(**env: str) -> Iterator[str]:
    proc, base = start_logged_server(**env)
    try:
        yield base
    finally:
        stop(proc, timeout=3)  # streams a failed test left open must not hold the run


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_admin_key(tenant: Any, *, name: str = "hardening admin", **kw: Any) -> tuple[str, str]:
    """(raw key, key id) of a new admin key, created with the service (no API for the first key)."""
    from apikeys.services import api_key_create

    kw.setdefault("rate_limit", UNLIMITED)
    row, raw = api_key_create(tenant=tenant, name=name, permissions=ADMIN, **kw)
    return raw, str(row.id)


def check(res: httpx.Response, *expected: int) -> dict[str, Any]:
    assert res.status_code in expected, (
        f"{res.request.method} {res.request.url.path} -> {res.status_code}: {res.text[:800]}"
    )
    return res.json() if res.content else {}


def wait_document_ready(client: httpx.Client, document_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        doc = check(client.get(f"/v1/documents/{document_id}"), 200)
        if doc.get("status") in {"ready", "failed"}:
            assert doc["status"] == "ready", doc
            return doc
        if time.monotonic() > deadline:
            raise AssertionError(f"document {document_id} not ready in {timeout} s: {doc}")
        time.sleep(0.2)


@dataclass
class Seeded:
    """One tenant's objects, created through the API, and the strings that identify them."""

    label: str
    tenant: Any
    key: str
    key_id: str
    canary: str
    ids: dict[str, str] = field(default_factory=dict)  # url kwarg name -> id
    bot_slug: str = ""
    scope_slug: str = ""

    @property
    def secrets(self) -> list[str]:
        """Strings that must never reach another tenant: every id, the canary, the key."""
        return [self.canary, self.key, *self.ids.values()]


def seed_tenant(
    base_url: str,
    label: str,
    *,
    system_prompt: str | None = None,
    document_text: str | None = None,
    chat: bool = True,
    scope_fields: dict[str, Any] | None = None,
    bot_fields: dict[str, Any] | None = None,
) -> Seeded:
    """A tenant with an admin key, a dataset holding one text document, a scope, a bot over them,
    and (``chat=True``) a conversation with one exchange. Canary strings are planted in each."""
    from tenants.tests.factories import TenantFactory

    canary = f"CANARY-{label.upper()}-{uuid.uuid4().hex[:12]}"
    tenant = TenantFactory(slug=f"hard-{label}-{uuid.uuid4().hex[:6]}", name=f"{label} {canary}")
    key, key_id = make_admin_key(tenant, name=f"admin {canary}")
    seeded = Seeded(label=label, tenant=tenant, key=key, key_id=key_id, canary=canary)
    seeded.ids["key_id"] = key_id
    with httpx.Client(base_url=base_url, headers=auth(key), timeout=120) as client:
        dataset = check(
            client.post("/v1/datasets", json={"name": f"{label} handbook {canary}"}), 201
        )
        seeded.ids["dataset_id"] = dataset["id"]
        text = document_text or (
            f"The {label} travel policy ({canary}) says employees book economy class for flights "
            f"under six hours. Hotel stays are capped at 180 euros per night. Expense reports "
            f"are due within 30 days of travel."
        )
        doc = check(
            client.post(
                f"/v1/datasets/{dataset['id']}/documents",
                json={"text": text, "title": f"{label} travel policy {canary}", "tags": ["policy"]},
            ),
            200,
            201,
            202,
        )
        seeded.ids["document_id"] = doc["id"]
        wait_document_ready(client, doc["id"])
        scope_slug = f"{label}-scope"
        scope = check(
            client.post(
                "/v1/scopes",
                json={
                    "name": f"{label} scope {canary}",
                    "slug": scope_slug,
                    "datasets": [dataset["id"]],
                    **(scope_fields or {}),
                },
            ),
            201,
        )
        seeded.ids["scope_id"] = scope["id"]
        seeded.scope_slug = scope_slug
        bot_slug = f"{label}-bot"
        bot = check(
            client.post(
                "/v1/bots",
                json={
                    "name": f"{label} bot {canary}",
                    "slug": bot_slug,
                    "system_prompt": system_prompt
                    if system_prompt is not None
                    else f"You are the {label} assistant. Internal reference {canary}.",
                    "datasets": [dataset["id"]],
                    "default_scope": scope["id"],
                    **(bot_fields or {}),
                },
            ),
            201,
        )
        seeded.ids["bot_id"] = bot["id"]
        seeded.bot_slug = bot_slug
        if chat:
            answer = check(
                client.post(
                    "/v1/chat",
                    json={
                        "bot": bot_slug,
                        "message": "How much can I spend on a hotel per night?",
                        "user": f"user-{canary}",
                    },
                ),
                200,
            )
            seeded.ids["conversation_id"] = answer["conversation_id"]
            seeded.ids["message_id"] = answer["message_id"]
    return seeded


# --------------------------------------------------------------------------- SSE
@dataclass
class Event:
    event: str
    data: Any


def iter_sse(response: httpx.Response) -> Iterator[Event]:
    """Events of a text/event-stream response (comment lines skipped)."""
    name, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                raw = "\n".join(data)
                try:
                    payload: Any = json.loads(raw)
                except ValueError:
                    payload = raw
                yield Event(name, payload)
            name, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield Event(name, json.loads("\n".join(data)))


def stream_chat(
    client: httpx.Client, body: dict[str, Any], **kw: Any
) -> tuple[int, list[Event], str]:
    """POST /v1/chat with stream=true; (status, events, concatenated delta text)."""
    with client.stream("POST", "/v1/chat", json={**body, "stream": True}, **kw) as res:
        if res.status_code != 200:
            res.read()
            return res.status_code, [Event("http_error", res.json())], ""
        events = list(iter_sse(res))
    text = "".join(e.data.get("text", "") for e in events if e.event == "delta")
    return 200, events, text
