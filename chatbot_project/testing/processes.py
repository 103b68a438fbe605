"""Start real processes (Celery worker, ASGI server) against the *test* database and Redis db.

Used by end-to-end tests (``transaction=True`` so the rows are visible to other processes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def test_database_url() -> str:
    """URL of the database the current test runs on (pytest-django's test_ database)."""
    sd = connection.settings_dict
    user = quote(sd.get("USER") or "postgres")
    password = f":{quote(sd['PASSWORD'])}" if sd.get("PASSWORD") else ""
    host = sd.get("HOST") or ""
    port = sd.get("PORT") or 5432
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{sd['NAME']}?host={host}&port={port}"
    return f"postgresql://{user}{password}@{host}:{port}/{sd['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SETTINGS_MODULE="chatbot_project.settings",
        TESTING="1",
        TEST_KEEP_REDIS_URL="1",
        SECRET_KEY=settings.SECRET_KEY,
        PYTHONUNBUFFERED="1",
        C_FORCE_ROOT="1",
    )
    env.update(extra)
    return env


def settings_in_child(
    code: str, *, unset: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python after ``django.setup()`` (settings loaded as a server
    loads them, from ``env`` with the names in ``unset`` removed): stdout, stderr, returncode."""
    environment = child_env(**env)
    for name in unset:
        environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def start_worker(
    *, name: str = "test", log_path: Path | None = None, **env: str
) -> subprocess.Popen:
    """A real Celery worker (solo pool, one process) on the test database and Redis db."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "chatbot_project", "worker", "--pool", "solo",
         "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
         "-n", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h"],
        cwd=BASE_DIR, env=child_env(**env), stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def wait_for_worker(timeout: float = 30) -> None:
    from chatbot_project.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return
    raise TimeoutError("no Celery worker answered within the timeout")


@contextlib.contextmanager
def running_worker(**kw: str) -> Iterator[subprocess.Popen]:
    proc = start_worker(**kw)
    try:
        wait_for_worker()
        yield proc
    finally:
        stop(proc)


def _server_log():
    """Server output goes to $TEST_SERVER_LOG when set (debugging), else nowhere."""
    path = os.environ.get("TEST_SERVER_LOG")
    return open(path, "ab") if path else subprocess.DEVNULL


def start_server(
    *, port: int | None = None, server: str = "uvicorn", **env: str
) -> tuple[subprocess.Popen, str]:
    """The real ASGI app in a subprocess; returns (process, base_url) once it answers."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chatbot_project.serve"],
        cwd=BASE_DIR, env=child_env(PORT=str(port), HOST="127.0.0.1", ASGI_SERVER=server, **env),
        stdout=_server_log(), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the ASGI server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return proc, base
        time.sleep(0.05)
    stop(proc)
    raise TimeoutError("the ASGI server did not start within 30 s")
