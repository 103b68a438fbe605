"""What the in-process benchmarks (bench/chat.py, bench/retrieval.py) share: their own database and
Redis db, Django set up on them, a percentile, and the app served on loopback.

Importing this module does nothing: ``configure`` is called by the benchmark's fixture module at
its import time, before anything touches Django's settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE = Path(__file__).resolve().parent.parent


def configure(default_db: str, default_redis_db: str) -> tuple[str, str, str, str]:
    """Point DATABASE_URL/REDIS_URL at the bench database and Redis db (creating the database),
    then ``django.setup()``. ``BENCH_DB``/``BENCH_REDIS_DB`` override the defaults.

    Returns (database name, Redis db, database URL, Redis URL).
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot_project.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("EMBEDDING_PROVIDER", "local")
    # The server processes are started with this environment: they must hash keys alike.
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    bench_db = os.environ.get("BENCH_DB", default_db)
    redis_db = os.environ.get("BENCH_REDIS_DB", default_redis_db)

    import psycopg

    from chatbot_project import embedded

    env = embedded.configure_environment()
    db_url = os.environ.get("DATABASE_URL") or env["DATABASE_URL"]
    redis_url = os.environ.get("REDIS_URL") or env["REDIS_URL"]
    bench_url = urlunsplit(urlsplit(db_url)._replace(path=f"/{bench_db}"))
    with psycopg.connect(db_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_db]).fetchone():
            conn.execute(f'CREATE DATABASE "{bench_db}"')
    redis_url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{redis_db}"))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["REDIS_URL"] = redis_url

    import django

    django.setup()
    return bench_db, redis_db, bench_url, redis_url


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by nearest rank over ``len - 1``; NaN when empty."""
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def serve(
    port: int, server: str, database_url: str, redis_url: str, **env: str
) -> subprocess.Popen:
    """``python -m chatbot_project.serve`` on 127.0.0.1:``port`` with production settings (DEBUG
    off) on the bench database and Redis db, output discarded, in its own session (so that
    ``stop`` ends its whole group). Returns at once: the caller waits for it its own way.
    ``BENCH_SERVER_LOG=path``: append the server's output (warnings and errors) there instead."""
    child_env = dict(
        os.environ, PORT=str(port), HOST="127.0.0.1", ASGI_SERVER=server, DEBUG="false",
        DATABASE_URL=database_url, REDIS_URL=redis_url, LOG_LEVEL="WARNING",
        SECURE_SSL_REDIRECT="false", ALLOWED_HOSTS="127.0.0.1,localhost",
    )  # fmt: skip
    child_env.update(env)
    log_path = os.environ.get("BENCH_SERVER_LOG")
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "chatbot_project.serve"], cwd=BASE, env=child_env,
            stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    finally:
        if log_path:
            out.close()  # the child holds its own copy
