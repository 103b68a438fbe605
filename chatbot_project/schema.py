"""OpenAPI for the health probes (plain Django views that drf-spectacular cannot see), so that
``/v1/schema`` lists every route of API.md: ``GET /v1/health`` and ``GET /v1/health/ready``.
A post-processing hook, listed after ``tenants.schema.document_errors``: the probes take no
credential and answer no error body (no auth, no rate limit, no request body)."""

from __future__ import annotations

from typing import Any

CHECK = {
    "type": "object",
    "required": ["ok", "latency_ms"],
    "properties": {
        "ok": {"type": "boolean"},
        "latency_ms": {"type": "number"},
        "error": {"type": "string", "description": "What failed (only when ok is false)."},
    },
}
READY = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "checks": {
            "type": "object",
            "required": ["database", "vector_extension", "redis", "worker"],
            "properties": {
                name: CHECK for name in ("database", "vector_extension", "redis", "worker")
            },
        },
    },
}
LIVE = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ok"]}},
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document_health(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    paths = result.setdefault("paths", {})
    paths["/v1/health"] = {
        "get": {
            "operationId": "health",
            "summary": "Liveness: the process serves (no auth, no dependencies).",
            "tags": ["health"],
            "responses": {"200": _json("The process serves.", LIVE)},
        }
    }
    paths["/v1/health/ready"] = {
        "get": {
            "operationId": "health_ready",
            "summary": "Readiness: database, pgvector, Redis and a Celery worker, each timed.",
            "tags": ["health"],
            "responses": {
                "200": _json("Every check passed.", READY),
                "503": _json("A check failed (named in `checks`).", READY),
            },
        }
    }
    return result
