"""``/v1/schema`` lists the health probes of API.md (plain Django views drf-spectacular cannot
see, so they were missing), with their bodies."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from chatbot_project.testing.schema_check import published_schema, response_errors

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return published_schema()


_errors = response_errors


def test_schema_lists_the_health_probes(schema, client):
    validate(schema)
    for path in ("/v1/health", "/v1/health/ready"):
        op = schema["paths"][path]["get"]
        assert not op.get("security"), path  # no credential
    live = client.get("/v1/health")
    assert not _errors(schema, "/v1/health", "get", "200", live.json())
    ready = schema["paths"]["/v1/health/ready"]["get"]["responses"]
    assert {"200", "503"} <= set(ready)
    body = {
        "status": "unavailable",
        "checks": {
            "database": {"ok": True, "latency_ms": 1.2},
            "vector_extension": {"ok": True, "latency_ms": 0.4},
            "redis": {"ok": True, "latency_ms": 0.3},
            "worker": {"ok": False, "latency_ms": 1000.5, "error": "no Celery worker answered"},
        },
    }
    assert not _errors(schema, "/v1/health/ready", "get", "503", body)
    assert _errors(schema, "/v1/health/ready", "get", "503", {"status": "unavailable"})


def test_liveness_is_readable_from_any_page(client):
    """The widget reads /v1/health from its host page to tell its key refused (the chat server
    answers) from a gateway's error page while the server is down (static_src/widget/stream.js,
    explainFetchFailure)."""
    live = client.get("/v1/health", HTTP_ORIGIN="https://shop.example")
    assert live.status_code == 200
    assert live["Access-Control-Allow-Origin"] == "*"
