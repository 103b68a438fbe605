"""The stack is real: PostgreSQL+pgvector, Redis, indexes, health, errors, admin behind OTP."""

from __future__ import annotations

import pytest
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from chatbot_project.redis_client import get_redis
from tenants.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_database_is_postgres_with_pgvector():
    with connection.cursor() as cur:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname='vector'")
        (version,) = cur.fetchone()
        cur.execute("SELECT '[1,0]'::vector <=> '[0,1]'::vector")
        (distance,) = cur.fetchone()
    assert version.startswith("0.")
    assert distance == pytest.approx(1.0)


def test_redis_round_trip():
    r = get_redis()
    r.set("foundation:probe", "ok", ex=10)
    assert r.get("foundation:probe") == b"ok"


def test_migrations_create_hnsw_and_gin_indexes():
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'datasets_chunk'")
        defs = dict(cur.fetchall())
    assert "USING hnsw (embedding vector_cosine_ops)" in defs["chunk_embedding_hnsw"]
    assert "USING gin (search_vector)" in defs["chunk_search_gin"]


def test_tenant_owned_indexes_start_with_tenant():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname='public' "
            "AND indexname LIKE '%%_tenant_%%idx'"
        )
        rows = cur.fetchall()
    assert len(rows) >= 8
    for _table, name, indexdef in rows:
        assert "(tenant_id" in indexdef, name


def test_health_is_ok_without_auth(client):
    res = client.get("/v1/health")
    assert res.status_code == 200
    assert res.json() == {"status": "ok"}
    assert res["X-Request-ID"]


@pytest.mark.parametrize("path", ["/v1/health", "/v1/health/ready"])
def test_health_answers_get_and_head_only(client, path):
    assert client.head(path).status_code in (200, 503)
    for method in ("post", "put", "patch", "delete"):
        res = getattr(client, method)(path)
        assert res.status_code == 405, (method, res.status_code)  # was 200
        assert res.json()["error"]["type"] == "invalid_request"
        assert res["Allow"] == "GET, HEAD"


def test_ready_reports_each_check_and_503_without_worker(client):
    res = client.get("/v1/health/ready")
    body = res.json()
    assert set(body["checks"]) == {"database", "vector_extension", "redis", "worker"}
    for name in ("database", "vector_extension", "redis"):
        assert body["checks"][name]["ok"] is True, body
        assert isinstance(body["checks"][name]["latency_ms"], float)
    # No worker runs in this unit test: ready must say so, naming the check.
    assert res.status_code == 503
    assert body["checks"]["worker"]["ok"] is False
    assert "worker" in body["checks"]["worker"]["error"]


def test_ready_names_a_failure_without_its_internals(client, monkeypatch):
    """Unauthenticated callers learn which check failed and its kind, not the exception's text
    (hosts, ports, users: it said "Error 111 connecting to 127.0.0.1:1")."""
    import redis

    from chatbot_project import redis_client

    closed = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    monkeypatch.setattr(redis_client, "get_redis", lambda: closed)  # Redis unreachable
    res = client.get("/v1/health/ready")
    assert res.status_code == 503
    redis = res.json()["checks"]["redis"]
    assert redis["ok"] is False
    assert redis["error"].startswith("ConnectionError")
    assert "127.0.0.1" not in res.content.decode()


@pytest.mark.django_db(transaction=True)
def test_concurrent_ready_requests_share_one_check(monkeypatch):
    """A flood of /ready costs one check at a time per process, not one per request (each
    waits up to a second for a worker's ping)."""
    import threading

    from django.test import Client

    from chatbot_project import health

    runs = []
    real = health._checks

    def counted():
        runs.append(1)
        return real()

    monkeypatch.setattr(health, "_checks", counted)
    statuses: list[int] = []
    start = threading.Barrier(8)

    def call() -> None:
        start.wait()
        statuses.append(Client().get("/v1/health/ready").status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [503] * 8  # (no worker in this test)
    assert len(runs) <= 2, len(runs)  # was 8


def test_unknown_api_route_has_error_body(client):
    res = client.get("/v1/definitely-not-a-route")
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"


def test_unauthenticated_api_call_is_401_with_error_body(client):
    res = client.get("/v1/bots")
    assert res.status_code == 401
    assert res.json()["error"]["type"] == "authentication_failed"


@pytest.fixture
def staff_user():
    user = UserFactory(username="staffer", is_staff=True, is_superuser=True)
    return user


def test_admin_without_otp_sees_no_data(client, staff_user):
    client.login(username="staffer", password="correct-horse-battery")
    for url in ("/admin/", "/admin/tenants/tenant/", "/admin/datasets/document/"):
        res = client.get(url)
        assert res.status_code == 302, url
        assert "/admin/login/" in res["Location"]
    # The login page asks for the OTP token.
    page = client.get("/admin/login/")
    assert b"otp_token" in page.content


def test_admin_with_verified_totp_device_sees_models(client, staff_user):
    device = TOTPDevice.objects.create(user=staff_user, name="phone", confirmed=True)
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    res = client.post(
        "/admin/login/?next=/admin/",
        {
            "username": "staffer",
            "password": "correct-horse-battery",
            "otp_device": device.persistent_id,
            "otp_token": f"{token:06d}",
        },
    )
    assert res.status_code == 302, res.content[:500]
    for url in ("/admin/", "/admin/tenants/tenant/", "/admin/conversations/message/"):
        assert client.get(url).status_code == 200, url
