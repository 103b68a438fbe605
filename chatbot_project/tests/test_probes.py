"""Health probes (and /metrics) in production settings: a load balancer, Kubernetes or
docker compose's healthcheck calls over plain HTTP with the host it has (127.0.0.1, a pod IP).
/v1/health was a 400 (host not in ALLOWED_HOSTS) and, with an allowed host, a 301 to https://,
so the compose file's healthcheck never passed. Every other route keeps both checks."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from chatbot_project.testing.processes import start_server, stop

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTION = {
    "TESTING": "0",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "chat.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "METRICS_TOKEN": "scrape-token",
}


def http_get(
    url: str, *, host: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        sent = {**({"Host": host} if host else {}), **(headers or {})}
        conn.request("GET", parts.path, headers=sent)
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


def test_probes_answer_over_plain_http_whatever_the_host():
    proc, base = start_server(**PRODUCTION)
    try:
        status, headers, body = http_get(f"{base}/v1/health")
        assert (status, body) == (200, b'{"status": "ok"}'), (status, body)
        assert headers.get("x-request-id")
        assert headers.get("x-content-type-options") == "nosniff"
        assert headers.get("x-frame-options") == "DENY"
        status, _, body = http_get(f"{base}/v1/health/ready")
        assert status in (200, 503), (status, body)  # the checks ran (no worker here: 503)
        assert b'"checks"' in body
        metrics = http_get(f"{base}/metrics", headers={"Authorization": "Bearer scrape-token"})
        assert metrics[0] == 200, metrics
        assert b"chatbot_database_up 1" in metrics[2]
        assert http_get(f"{base}/metrics")[0] == 401
        # Everything else keeps Django's checks: a host not allowed, then the HTTPS redirect.
        assert http_get(f"{base}/v1/bots")[0] == 400
        assert http_get(f"{base}/v1/bots", host="chat.example.com")[0] == 301
        assert http_get(f"{base}/v1/health", host="chat.example.com")[0] == 200
    finally:
        stop(proc)
