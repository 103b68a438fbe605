"""Response serializers of the conversation routes, and the shapes ``/v1/schema`` publishes
for them (API.md's conversation, message and usage objects). The views build some bodies by
hand (a conversation with its ``messages``, the usage report): ``ConversationDetailSerializer``
and ``UsageSerializer`` only describe those bodies for the schema; they serialize nothing."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.models import Conversation, Message
from conversations.schema import CITATION, USAGE

FEEDBACK = {
    "type": "object",
    "nullable": True,
    "description": "The end user's rating (POST /v1/messages/{id}/feedback); null without one.",
    "required": ["rating", "comment", "created_at"],
    "properties": {
        "rating": {"type": "string", "enum": ["up", "down"]},
        "comment": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}


_TIMESTAMP = serializers.DateTimeField()  # renders datetimes as every field does


class MessageSerializer(serializers.ModelSerializer):
    citations = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    feedback = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id", "role", "content", "citations", "usage", "latency_ms", "model",
            "finish_reason", "refused", "feedback", "created_at",
        ]  # fmt: skip

    @extend_schema_field({"type": "array", "items": CITATION})
    def get_citations(self, obj: Message) -> list[dict[str, Any]]:
        return obj.citations

    @extend_schema_field(USAGE)
    def get_usage(self, obj: Message) -> dict[str, int]:
        return obj.usage

    @extend_schema_field(FEEDBACK)
    def get_feedback(self, obj: Message) -> dict[str, Any] | None:
        if not obj.feedback_rating:
            return None
        return {
            "rating": obj.feedback_rating,
            "comment": obj.feedback_comment,
            # (as DRF writes every other timestamp: "...Z", not "...+00:00")
            "created_at": _TIMESTAMP.to_representation(obj.feedback_at)
            if obj.feedback_at
            else None,
        }


class ConversationSerializer(serializers.ModelSerializer):
    bot = serializers.SerializerMethodField()
    bot_slug = serializers.SerializerMethodField()
    scope = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "bot",
            "bot_slug",
            "user",
            "scope",
            "title",
            "created_at",
            "updated_at",
            "message_count",
        ]

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_bot(self, obj: Conversation) -> str | None:
        """The bot's id, as always; None once the bot was deleted (``bot_slug`` names it)."""
        return str(obj.bot_id) if obj.bot_id else None

    def get_bot_slug(self, obj: Conversation) -> str:
        """The bot's slug (a deleted bot's: the one the conversation kept)."""
        return obj.bot.slug if obj.bot is not None else obj.bot_slug

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_scope(self, obj: Conversation) -> str | None:
        return str(obj.scope_id) if obj.scope_id else None


class ConversationDetailSerializer(ConversationSerializer):
    """A conversation with its messages, oldest first."""

    messages = MessageSerializer(many=True, read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]


class UsageRowSerializer(serializers.Serializer):
    date = serializers.DateField()
    bot = serializers.CharField(help_text="The bot's slug (a deleted bot's last slug).")
    bot_id = serializers.UUIDField(allow_null=True, help_text="Null for a deleted bot.")
    messages = serializers.IntegerField()
    user_messages = serializers.IntegerField()
    assistant_messages = serializers.IntegerField()
    refused = serializers.IntegerField()
    feedback_up = serializers.IntegerField(help_text="Answers of that day rated `up`.")
    feedback_down = serializers.IntegerField(help_text="Answers of that day rated `down`.")
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    avg_latency_ms = serializers.FloatField(allow_null=True)
    max_latency_ms = serializers.IntegerField(allow_null=True)


class UsageTotalsSerializer(serializers.Serializer):
    messages = serializers.IntegerField()
    feedback_up = serializers.IntegerField()
    feedback_down = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    """Tokens, messages and answer latency per day and bot (oldest first), and the totals."""

    data = UsageRowSerializer(many=True)
    totals = UsageTotalsSerializer()


class ErasedCountsSerializer(serializers.Serializer):
    conversations = serializers.IntegerField()
    messages = serializers.IntegerField()


class ErasedSerializer(serializers.Serializer):
    """What ``DELETE /v1/conversations?user=`` deleted (zero when the end user had none)."""

    deleted = ErasedCountsSerializer()
