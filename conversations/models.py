from __future__ import annotations

from django.contrib.postgres.indexes import BrinIndex
from django.db import models

from tenants.models import TenantOwned


class Conversation(TenantOwned):
    """A chat with a bot. Deleting the bot keeps it (its transcript and billed usage belong to
    the tenant): ``bot`` becomes NULL and ``bot_slug`` still names the bot."""

    bot = models.ForeignKey(
        "bots.Bot", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    # The bot's slug: set when the conversation starts, and to the bot's last slug when the bot
    # is deleted (bots.services.bot_delete). Read only once ``bot`` is NULL.
    # db_default: rows inserted by code that predates the column (a deploy's old processes).
    bot_slug = models.CharField(max_length=64, blank=True, default="", db_default="")
    scope = models.ForeignKey(
        "bots.Scope", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.CharField(max_length=200, blank=True, default="")  # end-user id from the client
    title = models.CharField(max_length=200, blank=True, default="")
    api_key = models.ForeignKey(
        "apikeys.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    metadata = models.JSONField(default=dict, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="conv_tenant_created_idx"),
            models.Index(fields=["tenant", "bot", "-updated_at"], name="conv_tenant_bot_idx"),
            models.Index(fields=["tenant", "user"], name="conv_tenant_user_idx"),
        ]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Message(TenantOwned):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    class FinishReason(models.TextChoices):
        STOP = "stop"
        LENGTH = "length"
        REFUSED = "refused"
        CANCELLED = "cancelled"
        ERROR = "error"

    class Rating(models.TextChoices):
        UP = "up"
        DOWN = "down"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    bot = models.ForeignKey(  # the conversation's bot (NULL once deleted)
        "bots.Bot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField(blank=True, default="")
    citations = models.JSONField(default=list, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    model = models.CharField(max_length=100, blank=True, default="")
    finish_reason = models.CharField(
        max_length=10, choices=FinishReason.choices, blank=True, default=""
    )
    refused = models.BooleanField(default=False)
    # Why the scope refused (assistant, ``refused``, the model not asked): ``blocked`` by its
    # guardrails, ``ungrounded`` (require_grounding, nothing retrieved). Empty otherwise: also
    # for the provider's content filter (finish_reason ``refused``) and refusals stored before
    # it was recorded. ``GET /v1/unanswered`` lists the ungrounded ones (conversations.gaps).
    # db_default: rows inserted by code that predates the column (a deploy's old processes).
    refusal_reason = models.CharField(max_length=16, blank=True, default="", db_default="")
    error = models.TextField(blank=True, default="")
    feedback_rating = models.CharField(max_length=4, choices=Rating.choices, blank=True, default="")
    feedback_comment = models.TextField(blank=True, default="")
    feedback_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["tenant", "conversation", "created_at"], name="msg_tenant_conv_idx"
            ),
            models.Index(fields=["tenant", "bot", "created_at"], name="msg_tenant_bot_idx"),
            # Instance-wide recent figures (GET /metrics): tiny, rows arrive in time order.
            BrinIndex(fields=["created_at"], name="msg_created_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"

    @property
    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


class UsageArchive(TenantOwned):
    """What deleted conversations' messages counted in ``GET /v1/usage``, per day, bot and scope.

    Deleting a conversation (``DELETE /v1/conversations/{id}``, ``purge_conversations``, the
    admin) erases its text but not the tenant's usage history: the messages' figures are summed
    here first (``conversations.usage.archive_usage``) and ``usage_by_day`` adds these rows to the
    live messages' ones. Several rows may hold the same day/bot/scope (one per deleting batch);
    the report sums them. Latency is kept as a sum and a count so averages merge exactly.
    """

    day = models.DateField()
    bot = models.ForeignKey(  # NULL once the bot is deleted (bot_slug keeps its last slug)
        "bots.Bot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bot_slug = models.CharField(max_length=64, blank=True, default="")
    scope = models.ForeignKey(
        "bots.Scope", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    messages = models.BigIntegerField(default=0)
    user_messages = models.BigIntegerField(default=0)
    assistant_messages = models.BigIntegerField(default=0)
    refused = models.BigIntegerField(default=0)
    feedback_up = models.BigIntegerField(default=0)
    feedback_down = models.BigIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    total_tokens = models.BigIntegerField(default=0)
    latency_ms_sum = models.BigIntegerField(default=0)  # over assistant messages with a latency
    latency_count = models.BigIntegerField(default=0)
    max_latency_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="usage_archive_tenant_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.bot_slug}: {self.messages} messages"
