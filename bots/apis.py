"""REST for /v1/bots and /v1/scopes (read: GET; write: POST, PATCH, DELETE)."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from bots import selectors, services
from bots.serializers import BotSerializer, ScopeSerializer
from chatbot_project.errors import APIError
from tenants.views import TenantAPIView


def _refuse_if_limited(allowed_ids: Any, kind: str) -> None:
    """A key limited to certain bots (scopes) cannot create one: the new one would be outside
    its limit, so the key got a 201 and then a 404 for what it had just created."""
    if allowed_ids is not None:
        raise APIError(
            f"This API key is limited to certain {kind}s, so it cannot create a {kind}; use a "
            "key without that limit, or a signed-in user.",
            type="permission_denied", status_code=403,
        )  # fmt: skip


def _check_default_scope(allowed_ids: Any, data: dict, current: Any = None) -> None:
    """A key limited to certain scopes sets a bot's ``default_scope`` only from none or one of
    its scopes to one of its scopes: clearing it, or swapping another scope out, would change
    the guardrails of every chat that names no scope (a widget's) beyond the key's limit."""
    if allowed_ids is None or "default_scope" not in data:
        return
    try:
        new = uuid.UUID(str(data["default_scope"])) if data["default_scope"] is not None else None
    except ValueError:
        return  # not an id: the service's 400
    if new not in allowed_ids or (current is not None and current not in allowed_ids):
        raise APIError(
            "This API key is limited to certain scopes, so it may set a bot's default_scope "
            "only to one of them, and only in place of none or another of them; use a key "
            "without that limit, or a signed-in user.",
            type="permission_denied", status_code=403,
        )  # fmt: skip


def _check_datasets(context: Any, data: dict, *, scope: bool = False) -> None:
    """A key limited to certain bots or scopes links only datasets it may see itself
    (``readable_dataset_ids``: its bots' datasets its scopes read): else a key meant for one bot
    could add any dataset of the tenant, by id, to its bot and read it through chats. A scope
    of such a key cannot be set to ``"datasets": []`` either, which reads any dataset."""
    from datasets.selectors import readable_dataset_ids

    if "datasets" not in data:
        return
    readable = readable_dataset_ids(context=context)
    if readable is None:
        return
    wanted = set()
    for raw in data["datasets"] or []:
        try:
            wanted.add(uuid.UUID(str(raw)))
        except ValueError:
            return  # (the service answers the 400 naming it)
    if not wanted <= readable or (scope and not wanted and context.allowed_scope_ids is not None):
        raise APIError(
            "This API key is limited to certain bots or scopes, so it may link only the datasets "
            "it can see (GET /v1/datasets); use a key without those limits, or a signed-in user.",
            type="permission_denied", status_code=403,
        )  # fmt: skip


class BotListAPI(TenantAPIView):
    serializer_class = BotSerializer

    @extend_schema(operation_id="bots_list", responses=BotSerializer(many=True))
    def get(self, request: Any) -> Response:
        bots = selectors.bot_list(tenant=self.tenant, allowed_ids=self.auth.allowed_bot_ids)
        return self.list_response(bots, BotSerializer)

    @extend_schema(
        operation_id="bots_create", request=BotSerializer, responses={201: BotSerializer}
    )
    def post(self, request: Any) -> Response:
        _refuse_if_limited(self.auth.allowed_bot_ids, "bot")
        data = self.parse(BotSerializer)
        _check_default_scope(self.auth.allowed_scope_ids, data)
        _check_datasets(self.auth, data)
        bot = services.bot_create(tenant=self.tenant, data=data)
        return Response(BotSerializer(bot).data, status=status.HTTP_201_CREATED)


class BotDetailAPI(TenantAPIView):
    serializer_class = BotSerializer

    def _bot(self, bot_id: Any) -> Any:
        return selectors.bot_get(
            tenant=self.tenant, bot_id=bot_id, allowed_ids=self.auth.allowed_bot_ids
        )

    @extend_schema(operation_id="bots_retrieve", responses=BotSerializer)
    def get(self, request: Any, bot_id: Any) -> Response:
        return Response(BotSerializer(self._bot(bot_id)).data)

    @extend_schema(operation_id="bots_update", request=BotSerializer, responses=BotSerializer)
    def patch(self, request: Any, bot_id: Any) -> Response:
        bot = self._bot(bot_id)
        data = self.parse(BotSerializer, partial=True)
        _check_default_scope(self.auth.allowed_scope_ids, data, bot.default_scope_id)
        _check_datasets(self.auth, data)
        bot = services.bot_update(tenant=self.tenant, bot=bot, data=data)
        return Response(BotSerializer(bot).data)

    @extend_schema(operation_id="bots_destroy", responses={204: None})
    def delete(self, request: Any, bot_id: Any) -> Response:
        services.bot_delete(tenant=self.tenant, bot=self._bot(bot_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScopeListAPI(TenantAPIView):
    serializer_class = ScopeSerializer

    @extend_schema(operation_id="scopes_list", responses=ScopeSerializer(many=True))
    def get(self, request: Any) -> Response:
        scopes = selectors.scope_list(tenant=self.tenant, allowed_ids=self.auth.allowed_scope_ids)
        return self.list_response(scopes, ScopeSerializer)

    @extend_schema(
        operation_id="scopes_create", request=ScopeSerializer, responses={201: ScopeSerializer}
    )
    def post(self, request: Any) -> Response:
        _refuse_if_limited(self.auth.allowed_scope_ids, "scope")
        data = self.parse(ScopeSerializer)
        _check_datasets(self.auth, data, scope=True)
        scope = services.scope_create(tenant=self.tenant, data=data)
        return Response(ScopeSerializer(scope).data, status=status.HTTP_201_CREATED)


class ScopeDetailAPI(TenantAPIView):
    serializer_class = ScopeSerializer

    def _scope(self, scope_id: Any) -> Any:
        return selectors.scope_get(
            tenant=self.tenant, scope_id=scope_id, allowed_ids=self.auth.allowed_scope_ids
        )

    @extend_schema(operation_id="scopes_retrieve", responses=ScopeSerializer)
    def get(self, request: Any, scope_id: Any) -> Response:
        return Response(ScopeSerializer(self._scope(scope_id)).data)

    @extend_schema(operation_id="scopes_update", request=ScopeSerializer, responses=ScopeSerializer)
    def patch(self, request: Any, scope_id: Any) -> Response:
        scope = self._scope(scope_id)
        data = self.parse(ScopeSerializer, partial=True)
        _check_datasets(self.auth, data, scope=True)
        scope = services.scope_update(tenant=self.tenant, scope=scope, data=data)
        return Response(ScopeSerializer(scope).data)

    @extend_schema(operation_id="scopes_destroy", responses={204: None})
    def delete(self, request: Any, scope_id: Any) -> Response:
        services.scope_delete(tenant=self.tenant, scope=self._scope(scope_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
