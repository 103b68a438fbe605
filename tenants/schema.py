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
