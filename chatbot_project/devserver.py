"""``make run``: services, migrations, demo data, then the ASGI server and a Celery worker.

Logs of both processes are interleaved with prefixes by honcho (Procfile). Ctrl-C stops them and
the embedded PostgreSQL/Redis this command started (servers that were already running stay).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, str(BASE / "manage.py"), *args], check=True, cwd=BASE)


def _port_taken(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port`` (so the server could not bind)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host.strip("[]"), port))
        except OSError:
            return True
    return False


def main() -> int:
    t0 = time.monotonic()
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("LOG_FORMAT", "text")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if os.geteuid() == 0:
        os.environ.setdefault("C_FORCE_ROOT", "1")  # Celery refuses root otherwise (dev only)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

    # Before the minute of set-up, not after it: the server is the last thing to start.
    web_port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST") or "127.0.0.1"
    if web_port.isdigit() and _port_taken(host, int(web_port)):
        print(
            f"make run: port {web_port} on {host} is already in use (another `make run` or "
            f"server?). Stop it, or pick another port: PORT={int(web_port) + 1} make run",
            file=sys.stderr,
        )
        return 1

    # The server's own variables (the settings' are checked by `manage.py migrate` below): a bad
    # one stopped the server after the set-up, as web.1's "ImproperlyConfigured: ..." line.
    from django.core.exceptions import ImproperlyConfigured

    from chatbot_project.serve import process_tuning

    try:
        process_tuning()
    except ImproperlyConfigured as exc:
        print(f"make run: ImproperlyConfigured: {exc}", file=sys.stderr)
        return 1

    from chatbot_project import embedded

    started_pg = started_redis = False
    if not os.environ.get("DATABASE_URL"):
        pg = embedded.ensure_postgres()
        started_pg = pg.started
        os.environ["DATABASE_URL"] = pg.url()
    if not os.environ.get("REDIS_URL"):
        redis_port, started_redis = embedded.ensure_redis()
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"

    proc = None
    try:
        try:
            _manage("migrate", "--noinput", "-v", "0")
            _manage("seed_demo")
        except subprocess.CalledProcessError as exc:
            step = " ".join(exc.cmd[2:4])  # e.g. "migrate --noinput"
            print(f"make run: `manage.py {step}` failed (its message is above).", file=sys.stderr)
            return exc.returncode or 1
        base = f"http://127.0.0.1:{web_port}"
        key_file = embedded.DATA_DIR / "demo_api_key"
        key = key_file.read_text().strip() if key_file.exists() else "(run `manage.py seed_demo`)"
        enrolled = admin_enrolled(os.environ["DATABASE_URL"])
        print(banner(base, key, time.monotonic() - t0, enrolled), flush=True)
        # honcho gives each process its own PORT (5000, 5100, ... unless told a base): the
        # web process must get the one printed above.
        proc = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "-f", str(BASE / "Procfile"), "-p", web_port],
            cwd=BASE,
        )

        def forward(signum: int, _frame: object) -> None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signum)

        signal.signal(signal.SIGINT, forward)
        signal.signal(signal.SIGTERM, forward)
        return proc.wait()
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        if started_redis:
            embedded.stop_redis()
        if started_pg:
            embedded.stop_postgres()


def admin_enrolled(database_url: str) -> bool:
    """Whether demo-admin has a confirmed TOTP device (one query, no Django set-up). Unknown (the
    database unreachable, the tables not there) counts as not enrolled: the hint stays."""
    try:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT 1 FROM otp_totp_totpdevice d JOIN auth_user u ON u.id = d.user_id "
                "WHERE u.username = 'demo-admin' AND d.confirmed LIMIT 1"
            ).fetchone()
    except Exception:  # a hint only: never stop `make run` for it
        return False
    return row is not None


def banner(base: str, key: str, seconds: float, admin_enrolled: bool = False) -> str:
    """What ``make run`` prints once the demo is ready. Until demo-admin has a confirmed device,
    the admin line names the command that lets it in: `otp_enroll <user>` without --staff gave a
    device to a user the admin still refused, and adding --staff then asked for --replace (a new
    QR code). Once enrolled, the hint is gone (following it again asked for --replace)."""
    hint = (
        ""
        if admin_enrolled
        else "   (first: .venv/bin/python manage.py otp_enroll demo-admin --staff)"
    )
    return (
        "\n"
        f"  API         {base}/v1/   (health: {base}/v1/health/ready)\n"
        f"  Docs        {base}/docs\n"
        f"  Admin       {base}/admin/{hint}\n"
        f"  Playground  {base}/playground/\n"
        f"  Widget demo {base}/demo/\n"
        f"  Demo key    {key}\n"
        f"  Try: curl -s {base}/v1/chat -H 'Authorization: Bearer {key}' "
        "-H 'Content-Type: application/json' "
        '-d \'{"bot":"demo","message":"How do I run it?"}\'\n'
        f"  (ready to serve after {seconds:.1f}s; Ctrl-C stops everything)\n"
    )


if __name__ == "__main__":
    sys.exit(main())
