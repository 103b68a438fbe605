"""GET /metrics: off without METRICS_TOKEN, a bearer token otherwise, Prometheus' text format
with instance-wide figures from PostgreSQL and Redis."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conversations.models import Message
from conversations.tests.factories import ConversationFactory, MessageFactory
from datasets.models import Document
from datasets.tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-123"
LINE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$')


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_CACHE_SECONDS = 0
    return settings


def _scrape(token: str | None = TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().get("/metrics", **headers)


def _values(text: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert LINE.match(line), line
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_metrics_are_off_without_a_token(settings):
    settings.METRICS_TOKEN = ""
    res = _scrape()
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"


def test_a_scrape_needs_the_token(metrics_on, tenant):
    from apikeys.services import api_key_create

    _, key = api_key_create(tenant=tenant, name="admin", permissions=["admin", "read"])
    for token in (None, "wrong", key):  # a tenant's key is no operator credential
        res = _scrape(token)
        assert res.status_code == 401, token
        assert res.json()["error"]["type"] == "authentication_failed"
        assert res["WWW-Authenticate"] == 'Bearer realm="metrics"'


def test_figures_count_the_whole_instance(metrics_on, tenant, other_tenant):
    for status in ("ready", "ready", "failed", "queued"):
        DocumentFactory(dataset__tenant=tenant, status=status)
    DocumentFactory(dataset__tenant=other_tenant, status=Document.Status.READY)
    conv = ConversationFactory(bot__tenant=tenant)
    for reason, latency in (("stop", 400), ("stop", 600), ("cancelled", 200), ("error", None)):
        MessageFactory(
            conversation=conv, role=Message.Role.ASSISTANT, finish_reason=reason,
            latency_ms=latency, prompt_tokens=100, completion_tokens=20,
        )  # fmt: skip
    old = MessageFactory(conversation=conv, role=Message.Role.ASSISTANT, finish_reason="stop")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    MessageFactory(conversation=conv, role=Message.Role.USER)

    res = _scrape()
    assert res.status_code == 200
    assert res["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    values = _values(res.content.decode())
    assert values['chatbot_documents{status="ready"}'] == 3  # both tenants
    assert values['chatbot_documents{status="failed"}'] == 1
    assert values['chatbot_documents{status="processing"}'] == 0
    assert values['chatbot_tenants{active="true"}'] == 2
    assert values['chatbot_answers_last_hour{finish_reason="stop"}'] == 2  # not the older one
    assert values['chatbot_answers_last_hour{finish_reason="cancelled"}'] == 1
    assert values['chatbot_tokens_last_hour{kind="prompt"}'] == 400
    assert values['chatbot_tokens_last_hour{kind="completion"}'] == 80
    assert values['chatbot_answer_latency_last_hour_seconds{quantile="0.5"}'] == 0.4
    assert values["chatbot_database_up"] == 1
    assert values["chatbot_redis_up"] == 1
    assert values["chatbot_ingest_queue_length"] >= 0
    assert "chatbot_scrape_duration_seconds" in values


def test_a_dependency_down_is_a_figure_not_an_error(metrics_on, monkeypatch):
    from chatbot_project import redis_client
    from chatbot_project.testing.processes import free_port

    metrics_on.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    redis_client.get_redis.cache_clear()
    try:
        res = _scrape()
    finally:
        redis_client.get_redis.cache_clear()
    assert res.status_code == 200
    values = _values(res.content.decode())
    assert values["chatbot_redis_up"] == 0
    assert values["chatbot_database_up"] == 1
    assert "chatbot_ingest_queue_length" not in values


def test_scrapes_within_the_cache_time_share_one_rendering(metrics_on, monkeypatch):
    from chatbot_project import metrics

    monkeypatch.setattr(metrics, "_cached", (0.0, ""))
    metrics_on.METRICS_CACHE_SECONDS = 60
    first = _scrape().content
    DocumentFactory(status=Document.Status.FAILED)
    assert _scrape().content == first
