"""``/v1/health`` (process serves) and ``/v1/health/ready`` (dependencies answer), no auth.

Unauthenticated, so ``ready`` is cheap to call and says little: requests arriving while a check
runs share its result (a flood costs one check at a time per process, not one each, whose
worker ping waits up to a second), and a failure is named by its kind; the exception's own
text (host names, users, paths) goes to the server log only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

WORKER_PING_TIMEOUT = 1.0
log = logging.getLogger("chatbot.health")


class CheckFailed(RuntimeError):
    """A check's own finding, worded for the caller (shown as it is)."""


# GET (and HEAD) only, as API.md says: a POST or DELETE answered 200 as if it did something.
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    response = JsonResponse({"status": "ok"})
    # Any page may read it (it says nothing but "up"): the widget, its chat request failing
    # without a readable answer, tells the chat server refusing its key or site (this reads
    # 200) from a gateway's error page while the server is down (no CORS header: unreadable).
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _timed(check: Callable[[], Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
        out: dict[str, Any] = {"ok": True}
    except CheckFailed as exc:
        out = {"ok": False, "error": str(exc)}
    except Exception as exc:  # every failure is a finding, not a crash
        log.warning("readiness check %s failed: %s", getattr(check, "__name__", check), exc)
        out = {"ok": False, "error": f"{type(exc).__name__} (details in the server log)"}
    out["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return out


_leaves: list[tuple[str, str]] | None = None  # this code's newest migration per app


def _latest_migrations() -> list[tuple[str, str]]:
    """The leaf migrations of this code, read from the migration files once per process."""
    global _leaves
    if _leaves is None:
        from django.db.migrations.loader import MigrationLoader

        _leaves = sorted(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())
    return _leaves


def _database() -> None:
    """The database answers, and holds this code's schema: without `manage.py migrate` (a new
    database, a deploy whose migrations have not run) it answered "ok" while every API request
    failed with a 500. Are this code's newest migrations (one per app) recorded as applied?"""
    wanted = [f"{app}.{name}" for app, name in _latest_migrations()]
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
        applied: set[str] = set()
        if cur.fetchone()[0] and wanted:
            cur.execute(
                "SELECT app || '.' || name FROM django_migrations "
                "WHERE app || '.' || name = ANY(%s)",
                [wanted],
            )
            applied = {row[0] for row in cur.fetchall()}
    missing = [name for name in wanted if name not in applied]
    if missing:
        log.warning("readiness: migrations not applied: %s", ", ".join(missing))
        raise CheckFailed("the database schema is older than this code; run `manage.py migrate`")


def _vector() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cur.fetchone()
    if not row:
        raise CheckFailed("the pgvector extension is not installed in this database")


def _redis() -> None:
    from chatbot_project.redis_client import get_redis

    if not get_redis().ping():
        raise CheckFailed("no PONG")


def _worker() -> None:
    from chatbot_project.celery import app

    replies = app.control.ping(timeout=WORKER_PING_TIMEOUT, limit=1)
    if not replies:
        raise CheckFailed(f"no Celery worker answered a ping within {WORKER_PING_TIMEOUT:.0f} s")


_lock = threading.Lock()
_last: tuple[float, dict[str, Any]] = (0.0, {})


@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    global _last
    arrived = time.monotonic()
    with _lock:  # a check finished after this request arrived is as fresh as its own
        finished, checks = _last
        if not checks or finished < arrived:
            checks = _checks()
            _last = (time.monotonic(), checks)
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


def _checks() -> dict[str, dict[str, Any]]:
    checks = {
        "database": _timed(_database),
        "vector_extension": _timed(_vector),
        "redis": _timed(_redis),
    }
    checks["worker"] = _timed(_worker) if checks["redis"]["ok"] else {
        "ok": False, "latency_ms": 0.0, "error": "skipped: Redis (the broker) is down",
    }  # fmt: skip
    return checks
