"""Bot and scope JSON (API.md): relations as ids, retrieval settings as a nested object."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bots.models import Bot, Scope
from tenants.models import slug_validator
from tenants.views import StrictSerializer, validate_printable


def _str_list() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=500
    )


class RetrievalSerializer(StrictSerializer):
    top_k = serializers.IntegerField(min_value=1, max_value=50, required=False)
    score_threshold = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
    mode = serializers.ChoiceField(choices=Bot.RetrievalMode.values, required=False)


class BotSerializer(StrictSerializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=200, validators=[validate_printable])
    slug = serializers.CharField(
        max_length=64, required=False, validators=[slug_validator],
        help_text="Unique in the tenant; derived from the name when omitted.",
    )  # fmt: skip
    system_prompt = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    model = serializers.CharField(
        required=False, allow_blank=True, max_length=100, validators=[validate_printable],
        help_text="Chat model; blank = the tenant's default model, else the instance's.",
    )  # fmt: skip
    temperature = serializers.FloatField(min_value=0.0, max_value=2.0, required=False)
    max_tokens = serializers.IntegerField(min_value=1, max_value=16_384, required=False)
    datasets = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=100,
        help_text="Ids of this tenant's datasets the bot answers from.",
    )  # fmt: skip
    retrieval = RetrievalSerializer(required=False)
    default_scope = serializers.UUIDField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, bot: Bot) -> dict[str, Any]:
        return {
            "id": str(bot.id),
            "name": bot.name,
            "slug": bot.slug,
            "system_prompt": bot.system_prompt,
            "model": bot.model,
            "temperature": bot.temperature,
            "max_tokens": bot.max_tokens,
            "datasets": [str(d.pk) for d in bot.datasets.all()],
            "retrieval": {
                "top_k": bot.top_k,
                "score_threshold": bot.score_threshold,
                "mode": bot.retrieval_mode,
            },
            "default_scope": str(bot.default_scope_id) if bot.default_scope_id else None,
            "is_active": bot.is_active,
            "created_at": serializers.DateTimeField().to_representation(bot.created_at),
            "updated_at": serializers.DateTimeField().to_representation(bot.updated_at),
        }


class ScopeSerializer(StrictSerializer):
    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=200, validators=[validate_printable])
    slug = serializers.CharField(max_length=64, required=False, validators=[slug_validator])
    datasets = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=100,
        help_text="Ids of the datasets a chat under this scope may read.",
    )  # fmt: skip
    limited_to_datasets = serializers.BooleanField(
        read_only=True,
        help_text="True: chats read only `datasets` (none if that list is empty: they were "
        "deleted). False: any of the bot's datasets. Set by sending `datasets`.",
    )
    document_tags = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=500,
        help_text="If set, only documents carrying one of these tags are read.",
    )  # fmt: skip
    blocked_topics = _str_list()
    blocked_terms = _str_list()
    redact_terms = _str_list()
    refusal_message = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    require_grounding = serializers.BooleanField(required=False)
    max_input_chars = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, scope: Scope) -> dict[str, Any]:
        return {
            "id": str(scope.id),
            "name": scope.name,
            "slug": scope.slug,
            "datasets": [str(d.pk) for d in scope.datasets.all()],
            "limited_to_datasets": scope.limited_to_datasets,
            "document_tags": list(scope.document_tags),
            "blocked_topics": list(scope.blocked_topics),
            "blocked_terms": list(scope.blocked_terms),
            "redact_terms": list(scope.redact_terms),
            "refusal_message": scope.refusal_message,
            "require_grounding": scope.require_grounding,
            "max_input_chars": scope.max_input_chars,
            "created_at": serializers.DateTimeField().to_representation(scope.created_at),
            "updated_at": serializers.DateTimeField().to_representation(scope.updated_at),
        }
