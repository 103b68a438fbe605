"""Checking real answers against the published OpenAPI schema (``/v1/schema``) in tests."""

from __future__ import annotations

import json
from typing import Any


def published_schema() -> dict[str, Any]:
    """``GET /v1/schema`` as JSON (needs database access: the caller unblocks it)."""
    from rest_framework.test import APIClient

    res = APIClient().get("/v1/schema?format=json")
    assert res.status_code == 200, res.content[:500]
    return json.loads(res.content)


def response_errors(schema: dict, path: str, method: str, status: str, body: Any) -> list[str]:
    """Where ``body`` breaks the published JSON response of ``method path`` with ``status``."""
    from openapi_schema_validator import OAS30Validator

    response = schema["paths"][path][method]["responses"][status]
    shape = {
        **response["content"]["application/json"]["schema"],
        "components": schema["components"],
    }
    validator = OAS30Validator(shape)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
