"""Rate limits: per key in real Redis, headers, 429 with Retry-After, concurrency, Redis down."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from django.db import connections
from rest_framework.test import APIClient

from apikeys import ratelimit
from chatbot_project.errors import Unavailable
from chatbot_project.redis_client import get_redis
from tenants.auth import resolve_context


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.django_db
def test_responses_carry_limit_headers_and_429_has_retry_after(tenant, make_key):
    client = _bearer(make_key(tenant, ("read",), rate_limit="3/m"))
    remaining = []
    for _ in range(3):
        res = client.get("/v1/bots")
        assert res.status_code == 200
        assert res["X-RateLimit-Limit"] == "3"
        remaining.append(int(res["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    refused = client.get("/v1/bots")
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limited"
    assert refused["Retry-After"].isdigit()
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["X-RateLimit-Remaining"] == "0"


@pytest.mark.django_db
def test_limit_is_the_keys_else_the_tenants_else_the_instance_default(tenant, make_key, settings):
    settings.RATE_LIMIT_DEFAULT = "7/m"
    plain = _bearer(make_key(tenant, ("read",)))
    assert plain.get("/v1/bots")["X-RateLimit-Limit"] == "7"
    tenant.default_rate_limit = "5/m"
    tenant.save()
    tenant_default = _bearer(make_key(tenant, ("read",)))
    assert tenant_default.get("/v1/bots")["X-RateLimit-Limit"] == "5"
    own = _bearer(make_key(tenant, ("read",), rate_limit="9/h"))
    assert own.get("/v1/bots")["X-RateLimit-Limit"] == "9"


@pytest.mark.django_db
def test_each_key_has_its_own_counter(tenant, make_key):
    first = _bearer(make_key(tenant, ("read",), rate_limit="1/m"))
    second = _bearer(make_key(tenant, ("read",), rate_limit="1/m"))
    assert first.get("/v1/bots").status_code == 200
    assert first.get("/v1/bots").status_code == 429
    assert second.get("/v1/bots").status_code == 200


@pytest.mark.django_db
def test_async_and_sync_share_the_count_and_identity_has_its_own(tenant, make_key):
    ctx = resolve_context({"X-API-Key": make_key(tenant, ("chat",), rate_limit="2/m")})
    assert ratelimit.hit(ctx, bucket="chat").remaining == 1
    second = asyncio.run(ratelimit.ahit(ctx, bucket="chat"))
    assert second.allowed
    assert second.remaining == 0
    third = asyncio.run(ratelimit.ahit(ctx, bucket="chat"))
    assert not third.allowed
    assert third.retry_after >= 1
    # The end user's own counter under the same key is separate.
    assert ratelimit.hit(ctx, bucket="chat", identity="visitor-1").allowed
    assert ratelimit.hit(ctx, bucket="chat", identity="visitor-1").allowed
    assert not ratelimit.hit(ctx, bucket="chat", identity="visitor-1").allowed
    assert ratelimit.hit(ctx, bucket="chat", identity="visitor-2").allowed


def test_window_expires_and_retry_after_counts_down():
    limit = "1/s"
    key = "rl:test:window"
    assert ratelimit.check(key, limit).allowed
    refused = ratelimit.check(key, limit)
    assert not refused.allowed
    assert refused.retry_after == 1
    time.sleep(1.05)
    assert ratelimit.check(key, limit).allowed


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_requests_against_a_10_per_minute_key(tenant, make_key):
    raw = make_key(tenant, ("read",), rate_limit="10/m")
    resolve_context({"X-API-Key": raw})  # warm the key cache: threads then need few connections
    barrier = threading.Barrier(50)
    results: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            client = _bearer(raw)
            barrier.wait(timeout=20)
            res = client.get("/v1/bots")
            with lock:
                results.append((res.status_code, res.get("Retry-After")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(50)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    took = time.perf_counter() - started
    statuses = [s for s, _ in results]
    assert len(results) == 50
    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 40, statuses
    for status, retry in results:
        if status == 429:
            assert retry is not None
            assert retry.isdigit()
            assert int(retry) >= 1
    print(f"50 concurrent requests in {took:.2f}s: 10 x 200, 40 x 429")


@pytest.fixture
def dead_redis(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    original = settings.REDIS_URL
    get_redis.cache_clear()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    ratelimit._sync_scripts.clear()
    yield
    settings.REDIS_URL = original
    get_redis.cache_clear()
    ratelimit._sync_scripts.clear()


@pytest.mark.django_db
def test_redis_down_is_a_fast_503(tenant, make_key, dead_redis):
    client = _bearer(make_key(tenant, ("read",)))
    started = time.perf_counter()
    res = client.get("/v1/bots")
    assert time.perf_counter() - started < 5
    assert res.status_code == 503
    err = res.json()["error"]
    assert err["type"] == "unavailable"
    assert "Redis" in err["message"]
    ctx = resolve_context({"X-API-Key": make_key(tenant, ("read",))})
    with pytest.raises(Unavailable):
        asyncio.run(ratelimit.ahit(ctx))


def test_bad_limit_strings_are_refused():
    for bad in ("", "10", "ten/m", "10/w", "0/m", "５/m", "٣/m", "+5/m"):
        with pytest.raises(ValueError):
            ratelimit.parse_limit(bad)
    assert ratelimit.parse_limit("60/m") == (60, 60)
    assert ratelimit.parse_limit("5/d") == (5, 86400)


@pytest.mark.parametrize("route", ["/v1/api-keys", "/v1/tenant"])
def test_limits_in_other_scripts_digits_are_400(api, route):
    field = "rate_limit" if route == "/v1/api-keys" else "default_rate_limit"
    send = api.post if route == "/v1/api-keys" else api.patch
    res = send(route, {"name": "x", field: "５/m"}, format="json")
    assert res.status_code == 400, res.content  # was stored as "５/m"
    assert res.json()["error"]["message"].startswith(f"{field}:")


@pytest.mark.django_db
def test_a_new_limit_with_a_shorter_window_starts_its_own_count(tenant, make_key, api):
    """A tenant that moves its keys from "100/d" to "3/m" gets 3 a minute at once. The count
    used to be one Redis key for any limit: the day's window (and count) went on, so the
    key was refused for the rest of the day (Retry-After ~86400) under a per-minute limit."""
    tenant.default_rate_limit = "100/d"
    tenant.save()
    client = _bearer(make_key(tenant, ("read",)))
    for _ in range(5):
        assert client.get("/v1/bots").status_code == 200
    assert api.patch("/v1/tenant", {"default_rate_limit": "3/m"}, format="json").status_code == 200
    statuses = [client.get("/v1/bots") for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[0]["X-RateLimit-Limit"] == "3"
    assert 1 <= int(statuses[-1]["Retry-After"]) <= 60
