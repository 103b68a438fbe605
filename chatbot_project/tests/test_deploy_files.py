"""The production files (Dockerfile, docker-compose.yml, .dockerignore) read correctly: no
Docker engine on the development machines, so these checks are what keeps them honest."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import yaml

BASE = Path(__file__).resolve().parents[2]


def _ignored(patterns: list[str], path: str) -> bool:
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        if fnmatch.fnmatch(path, pattern.lstrip("!")) or path.startswith(pattern + "/"):
            ignored = not negate
    return ignored


def test_the_image_leaves_out_local_data_secrets_and_environments():
    """`COPY . .` copied .venv, the embedded database and media (.data, with the development
    SECRET_KEY) and .git into the image: there was no .dockerignore."""
    lines = (BASE / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for path in (".venv", ".data", ".data/secret_key", ".env", ".git", "artifacts"):
        assert _ignored(patterns, path), path
    for path in ("manage.py", "requirements.txt", ".env.example", "chatbot_project"):
        assert not _ignored(patterns, path), path


def test_compose_runs_the_products_server_and_existing_commands():
    compose = yaml.safe_load((BASE / "docker-compose.yml").read_text())
    api = compose["services"]["api"]["command"]
    # The product's default server (uvicorn: bench/README.md); compose forced Daphne.
    assert "daphne" not in api
    assert "python -m chatbot_project.serve" in api
    assert "manage.py migrate" in api
    assert (BASE / "chatbot_project" / "serve.py").exists()
    worker = compose["services"]["worker"]["command"]
    assert worker[:3] == ["celery", "-A", "chatbot_project"]
    assert (BASE / "chatbot_project" / "celery.py").exists()
    dockerfile = (BASE / "Dockerfile").read_text()
    for name in ("requirements.txt", "requirements-model.txt"):
        assert name in dockerfile
        assert (BASE / name).exists()


def test_compose_worker_takes_worker_concurrency_as_the_procfile_does():
    """.env.example offers WORKER_CONCURRENCY, which the Procfile reads; compose's worker had
    `--concurrency 2` written in, so setting it in .env changed nothing there."""
    compose = yaml.safe_load((BASE / "docker-compose.yml").read_text())
    worker = compose["services"]["worker"]["command"]
    assert worker[worker.index("--concurrency") + 1] == "${WORKER_CONCURRENCY:-2}"
    assert "${WORKER_CONCURRENCY:-2}" in (BASE / "Procfile").read_text()
    assert "WORKER_CONCURRENCY=" in (BASE / ".env.example").read_text()


def test_compose_workers_and_api_match_the_procfile_and_keep_the_encoder():
    """Repro (fresh-clone review): compose's worker lacked the Procfile's --without-gossip
    --without-mingle, and .data/cache (the int8 question encoder, 3-12 s to build) was on no
    volume, so every api container built it again and its first questions waited."""
    compose = yaml.safe_load((BASE / "docker-compose.yml").read_text())
    worker = compose["services"]["worker"]["command"]
    for flag in ("--without-gossip", "--without-mingle"):
        assert flag in worker
        assert flag in (BASE / "Procfile").read_text()
    api_volumes = compose["services"]["api"]["volumes"]
    assert "modelcache:/app/.data/cache" in api_volumes
    assert "modelcache" in compose["volumes"]
    assert "/app/.data/cache" in (BASE / "Dockerfile").read_text()  # owned by the app user
