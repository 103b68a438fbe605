"""bench/load.py's world: the environment its server and worker run with (a fresh ``bench_load``
database on the embedded PostgreSQL and Redis db 13, unless DATABASE_URL/REDIS_URL are given;
production settings, offline models), ``manage.py`` commands, and the seeding: a tenant, 8 API
keys, the first ``--docs`` DRF docs ingested through the API, a bot and five conversations.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent
CORPUS = BASE_DIR.parent / "shared" / "corpus"
PY = sys.executable
DB_NAME = "bench_load"
KEYS = 8


# --------------------------------------------------------------------------- environment
def bench_env(server: str) -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        from chatbot_project import embedded

        if not env.get("DATABASE_URL"):
            info = embedded.ensure_postgres()
            _recreate_database(info.url("postgres"))
            env["DATABASE_URL"] = info.url(DB_NAME)
        if not env.get("REDIS_URL"):
            port, _ = embedded.ensure_redis()
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/13"
    env.update(
        DJANGO_SETTINGS_MODULE="chatbot_project.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        CHAT_PROVIDER="extractive",
        CHAT_MODEL="extractive",
        OPENAI_API_KEY="",
        EMBEDDING_PROVIDER="local",
        ASGI_SERVER=server,
        HOST="127.0.0.1",
        LOG_LEVEL="WARNING",
        RATE_LIMIT_DEFAULT="9999999/m",
        PYTHONUNBUFFERED="1",
    )
    env.pop("TESTING", None)
    return env


def _recreate_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}" TEMPLATE template1')


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [PY, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


# --------------------------------------------------------------------------- seeding
@dataclass
class World:
    base: str
    keys: list[str]
    bot: str
    dataset_id: str
    conversation_ids: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


def seed(env: dict[str, str], base: str, docs: int, worker_alive: Any = None) -> World:
    manage(env, "create_tenant", "bench", "--name", "Load bench")
    keys = [
        manage(
            env, "create_api_key", "--tenant", "bench", "--name", f"load-{i}",
            "--permissions", "chat,read,write,admin", "--rate-limit", "9999999/m",
        ).strip().splitlines()[-1]
        for i in range(KEYS)
    ]  # fmt: skip
    files = sorted((CORPUS / "drf-docs" / "api-guide").glob("*.md"))[:docs]
    questions = [
        json.loads(line)["question"]
        for line in (CORPUS / "drf-qa-dev.jsonl").read_text().splitlines()
        if line.strip()
    ]
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {keys[0]}"}, timeout=120
    ) as c:
        dataset = c.post("/v1/datasets", json={"name": "DRF docs"}).raise_for_status().json()
        doc_ids = []
        for path in files:
            res = c.post(
                f"/v1/datasets/{dataset['id']}/documents",
                files={"file": (path.name, path.read_bytes(), "text/markdown")},
                data={"title": path.stem},
            )
            res.raise_for_status()
            doc_ids.append(res.json()["id"])
        started = time.monotonic()
        for doc_id in doc_ids:
            while True:
                doc = c.get(f"/v1/documents/{doc_id}").raise_for_status().json()
                if doc["status"] in {"ready", "failed"}:
                    break
                if time.monotonic() - started > 900:
                    raise TimeoutError("ingestion took longer than 15 minutes")
                if worker_alive is not None:
                    worker_alive()
                time.sleep(0.5)
        print(f"ingested {len(doc_ids)} documents in {time.monotonic() - started:.1f} s")
        c.post(
            "/v1/bots",
            json={"name": "Docs", "slug": "docs", "datasets": [dataset["id"]]},
        ).raise_for_status()
        conversations = []
        for q in questions[:5]:
            r = c.post("/v1/chat", json={"bot": "docs", "message": q}).raise_for_status()
            conversations.append(r.json()["conversation_id"])
    return World(base, keys, "docs", dataset["id"], conversations, questions)
