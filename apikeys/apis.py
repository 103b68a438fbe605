"""REST for /v1/api-keys (admin): list, create (the key is in the answer once), read, revoke,
rotate."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apikeys import selectors, services
from apikeys.serializers import (
    APIKeyCreatedSerializer,
    APIKeyRotatedSerializer,
    APIKeyRotateSerializer,
    APIKeySerializer,
)
from tenants.views import TenantAPIView


class APIKeyListAPI(TenantAPIView):
    serializer_class = APIKeySerializer
    required_permission = "admin"

    @extend_schema(operation_id="api_keys_list", responses=APIKeySerializer(many=True))
    def get(self, request: Any) -> Response:
        return self.list_response(
            selectors.api_key_list(tenant=self.tenant, context=self.auth), APIKeySerializer
        )

    @extend_schema(
        operation_id="api_keys_create",
        request=APIKeySerializer,
        responses={201: APIKeyCreatedSerializer},
        description=(
            "The answer's `key` is the only time the full key is shown; store it now. A key "
            "never holds more than its creator: permissions it lacks, bots or scopes beyond its "
            "own limit, or (created with a key that expires) no or a later `expires_at` are a 403. "
            "`bots` and `scopes` name each by slug or id, looked up in the caller's tenant only "
            "(an unknown one, or another tenant's, is a 400 naming it and no key is made); the "
            "answer lists their ids."
        ),
    )
    def post(self, request: Any) -> Response:
        pair = services.api_key_create_for(context=self.auth, data=self.parse(APIKeySerializer))
        return Response(APIKeyCreatedSerializer(pair).data, status=status.HTTP_201_CREATED)


class APIKeyDetailAPI(TenantAPIView):
    serializer_class = APIKeySerializer
    required_permission = "admin"

    @extend_schema(operation_id="api_keys_retrieve", responses=APIKeySerializer)
    def get(self, request: Any, key_id: Any) -> Response:
        return Response(
            APIKeySerializer(
                selectors.api_key_get(tenant=self.tenant, key_id=key_id, context=self.auth)
            ).data
        )

    @extend_schema(
        operation_id="api_keys_revoke",
        responses={200: APIKeySerializer},
        description="Revokes the key (it stops working within seconds everywhere) and returns it.",
    )
    def delete(self, request: Any, key_id: Any) -> Response:
        key = selectors.api_key_get(tenant=self.tenant, key_id=key_id, context=self.auth)
        key = services.api_key_revoke_for(context=self.auth, key=key)
        return Response(APIKeySerializer(key).data)


class APIKeyRotateAPI(TenantAPIView):
    serializer_class = APIKeyRotateSerializer
    required_permission = "admin"

    @extend_schema(
        operation_id="api_keys_rotate",
        request=APIKeyRotateSerializer,
        responses={201: APIKeyRotatedSerializer},
        description=(
            "Replaces the key with a new one of the same name and settings (permissions, bots, "
            "scopes, rate limit, origins, expiry); the answer is a creation's, with the new "
            "`key` shown this once, its `rotated_from` and the old key's `previous_expires_at`. "
            "The old key keeps working `previous_valid_for` seconds (default 3600: time to roll "
            "the new one out; 0 revokes it now, for a leaked key; at most 7 days; an expiry "
            "already sooner is kept). A revoked or expired key is a 409 `conflict`; a key beyond "
            "the caller's own permissions, bots, scopes or expiry a 403."
        ),
    )
    def post(self, request: Any, key_id: Any) -> Response:
        data = self.parse(APIKeyRotateSerializer)
        key = selectors.api_key_get(tenant=self.tenant, key_id=key_id, context=self.auth)
        triple = services.api_key_rotate_for(
            context=self.auth, key=key, previous_valid_for=data["previous_valid_for"]
        )
        return Response(APIKeyRotatedSerializer(triple).data, status=status.HTTP_201_CREATED)
