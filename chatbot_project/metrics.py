"""``GET /metrics``: the instance's state in Prometheus' text format, for operators.

Off unless ``METRICS_TOKEN`` is set (then a 404 like any unknown path); a scrape sends
``Authorization: Bearer <METRICS_TOKEN>``. Instance-wide figures only (no tenant labels: one
scrape must not grow with the tenant count), read from PostgreSQL and Redis, so every server
process answers the same. Rendered at most once per ``METRICS_CACHE_SECONDS`` per process: a
scrape costs a handful of small queries (the messages' figures cover the last hour and use
the BRIN index on ``created_at``). Like the health probes, /metrics is answered before
Django's host check and HTTPS redirect (``chatbot_project.middleware``): scrapers call pod
addresses over plain HTTP.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from chatbot_project.errors import error_response
from chatbot_project.middleware import _DJANGO_MESSAGES

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
log = logging.getLogger("chatbot.metrics")
_lock = threading.Lock()
_cached: tuple[float, str] = (0.0, "")


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return error_response(404, _DJANGO_MESSAGES[404], "not_found")  # as an unknown path
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        response = error_response(
            401, "Send Authorization: Bearer <METRICS_TOKEN> to read the metrics.",
            "authentication_failed",
        )  # fmt: skip
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    global _cached
    with _lock:  # concurrent scrapes share one rendering
        rendered_at, text = _cached
        if not text or time.monotonic() - rendered_at >= settings.METRICS_CACHE_SECONDS:
            text = render()
            _cached = (time.monotonic(), text)
    return HttpResponse(text, content_type=CONTENT_TYPE)


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, help_text: str, samples: Iterable[tuple[dict, float]]) -> None:
        self.lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for labels, value in samples:
            inner = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            self.lines.append(f"{name}{{{inner}}} {value:g}" if inner else f"{name} {value:g}")


def _safely(out: _Out, up: str, help_text: str, collect: Callable[[_Out], None]) -> None:
    """Run one group of figures; a failing dependency is reported as ``up`` 0, not a 500."""
    try:
        collect(out)
        ok = 1
    except Exception as exc:  # the scrape reports, it does not crash
        log.warning("metrics: %s failed: %s", up, exc)
        ok = 0
    out.family(up, help_text, [({}, ok)])


def render() -> str:
    started = time.perf_counter()
    out = _Out()
    out.family("chatbot_info", "Version and configured providers.", [({
        "version": settings.SPECTACULAR_SETTINGS.get("VERSION", ""),
        "chat_provider": settings.CHAT_PROVIDER, "chat_model": settings.CHAT_MODEL,
        "embedding_provider": settings.EMBEDDING_PROVIDER,
        "embedding_model": settings.EMBEDDING_MODEL,
    }, 1)])  # fmt: skip
    _safely(out, "chatbot_database_up", "1 if PostgreSQL answered this scrape.", _database)
    _safely(out, "chatbot_redis_up", "1 if Redis answered this scrape.", _redis)
    out.family(
        "chatbot_scrape_duration_seconds", "Time taken to collect these figures.",
        [({}, round(time.perf_counter() - started, 4))],
    )  # fmt: skip
    return "\n".join(out.lines) + "\n"


def _database(out: _Out) -> None:
    from apikeys.models import APIKey
    from bots.models import Bot
    from conversations.models import Message
    from datasets.models import Document
    from tenants.models import Tenant

    now = timezone.now()
    tenants = Tenant.objects.aggregate(
        active=Count("id", filter=Q(is_active=True)), off=Count("id", filter=Q(is_active=False))
    )
    out.family("chatbot_tenants", "Tenants by state.", [
        ({"active": "true"}, tenants["active"]), ({"active": "false"}, tenants["off"]),
    ])  # fmt: skip
    out.family("chatbot_bots", "Bots.", [({}, Bot.objects.count())])
    keys = APIKey.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True
    ).count()
    out.family("chatbot_api_keys_active", "API keys neither revoked nor expired.", [({}, keys)])
    by_status = dict(
        Document.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    out.family("chatbot_documents", "Documents by ingestion status.", [
        ({"status": s}, by_status.get(s, 0)) for s in Document.Status.values
    ])  # fmt: skip
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE relname = 'datasets_chunk'")
        row = cur.fetchone()
    out.family(
        "chatbot_chunks_estimated", "Chunks (PostgreSQL's planner estimate).",
        [({}, max(0.0, float(row[0])) if row else 0.0)],
    )  # fmt: skip
    answers = Message.objects.filter(
        role=Message.Role.ASSISTANT, created_at__gte=now - timedelta(hours=1)
    )
    by_reason = dict(answers.values_list("finish_reason").annotate(n=Count("id")).values_list(
        "finish_reason", "n"
    ))  # fmt: skip
    out.family("chatbot_answers_last_hour", "Answers stored in the last hour, by finish reason.", [
        ({"finish_reason": r}, by_reason.get(r, 0)) for r in Message.FinishReason.values
    ])  # fmt: skip
    tokens = answers.aggregate(prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"))
    out.family("chatbot_tokens_last_hour", "Model tokens of the last hour's answers.", [
        ({"kind": "prompt"}, tokens["prompt"] or 0),
        ({"kind": "completion"}, tokens["completion"] or 0),
    ])  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms), "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) "
            "FROM conversations_message WHERE role = 'assistant' AND created_at >= %s "
            "AND latency_ms IS NOT NULL",
            [now - timedelta(hours=1)],
        )
        p50, p95 = cur.fetchone()
    out.family(
        "chatbot_answer_latency_last_hour_seconds",
        "Answer latency (question to stored answer) over the last hour.",
        [({"quantile": "0.5"}, (p50 or 0) / 1000), ({"quantile": "0.95"}, (p95 or 0) / 1000)],
    )


def _redis(out: _Out) -> None:
    from chatbot_project.redis_client import get_redis

    queued = get_redis().llen("celery")  # Celery's default queue on the Redis broker
    out.family("chatbot_ingest_queue_length", "Ingestion tasks waiting for a worker.", [
        ({}, queued),
    ])  # fmt: skip
