"""OpenAPI descriptions of the two credentials (drf-spectacular auth extensions)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.APIKeyAuthentication"
    name = ["apiKeyBearer", "apiKeyHeader"]
    priority = 1

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list]]:
        return [{name: []} for name in self.name]  # either header (OR), not both

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        bearer = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION",
            token_prefix="Bearer",  # noqa: S106 - a scheme name
            bearer_format="cb_<key>",
        )
        bearer["description"] = (
            "API key as `Authorization: Bearer cb_...`. Keys carry permissions (chat, read, "
            "write, admin), optional bot/scope restrictions, a rate limit and allowed origins."
        )
        header = {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "The same API key in the `X-API-Key` header.",
        }
        return [bearer, header]


class TenantJWTScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.TenantJWTAuthentication"
    name = "jwtAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme = build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION",
            token_prefix="Bearer",  # noqa: S106 - a scheme name
            bearer_format="JWT",
        )
        scheme["description"] = (
            "Staff access token from POST /v1/auth/token. With memberships in several tenants, "
            "send `X-Tenant: <slug>`. Roles: owner/admin = all permissions, member = read + chat."
        )
        return scheme


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "API.md's error body, for every non-2xx answer.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {
                "type": {
                    "type": "string",
                    "description": "snake_case kind, e.g. invalid_request, not_found.",
                },
                "message": {"type": "string", "description": "A sentence for a human."},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}
ERRORS = {
    "400": "Invalid request (`invalid_request`).",
    "401": "Missing, invalid, revoked or expired credential (`authentication_failed`).",
    "403": "The credential lacks the permission, or the origin is refused (`permission_denied`).",
    "404": "No such object, or another tenant's (`not_found`).",
    "409": "Conflict with the current state: a duplicate slug, a quota reached (`conflict`).",
    "413": "Request body too large (`payload_too_large`).",
    "415": "Unsupported media type (`unsupported_media_type`).",
    "429": "Rate limit exceeded (`rate_limited`); see `Retry-After`.",
    "503": "A dependency (database, Redis) is unavailable (`unavailable`).",
}
PUBLIC_ERRORS = ("400", "401", "413", "415", "429", "503")
RATE_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests per window."},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Left in window."},
}


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict:
    """drf-spectacular post-processing hook: the error body and its status codes on every
    operation (so clients and contract tests know every answer), and the rate-limit headers on
    answers of authenticated operations."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            secured = bool(operation.get("security")) and operation["security"] != [{}]
            for code, text in ERRORS.items():
                if code in responses:  # the view's own description: the body is the same
                    responses[code].setdefault("content", {"application/json": {"schema": ref}})
                    continue
                if not secured and code not in PUBLIC_ERRORS:
                    continue
                responses[code] = {
                    "description": text,
                    "content": {"application/json": {"schema": ref}},
                }
            if secured:
                for code, response in responses.items():
                    if code.startswith("2") or code == "429":
                        response.setdefault("headers", {}).update(RATE_HEADERS)
    return result
