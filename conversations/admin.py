from django.contrib import admin
from django.contrib.admin.models import CHANGE, DELETION

from conversations import gaps_admin  # noqa: F401 - lists the content gaps page
from conversations.erasure import conversations_delete_recorded
from conversations.message_edits import (
    admin_log_entries,
    message_save_recorded,
    messages_delete_recorded,
)
from conversations.models import Conversation, Message
from tenants.admin_scoping import TenantScopedAdminMixin


@admin.register(Conversation)
class ConversationAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Conversations are started by chats, not added here: an added one was an empty record
    of a chat that never happened, listed by GET /v1/conversations as started with the API key
    chosen. ``message_count`` is what the chats wrote (read-only, as a document's chunk_count)."""

    # bot_slug names the bot once it is deleted (bot empty); set from the bot on save.
    list_display = ("id", "tenant", "bot", "bot_slug", "user", "message_count", "created_at")
    # ``bot`` may be NULL, and Django's default select_related() follows only non-null foreign
    # keys: each row's bot was a query of its own (50 rows: 57 queries, not 7).
    list_select_related = ("tenant", "bot")
    list_filter = ("tenant",)
    readonly_fields = ("bot_slug", "message_count")
    # Ids, not drop-downs: a superuser's change page listed every bot, scope and API key of
    # the instance (5,000 bots: 1.3 s and 380 KB per page), as the message admin avoids.
    raw_id_fields = ("bot", "scope", "api_key")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if obj.bot is not None:
            obj.bot_slug = obj.bot.slug
        super().save_model(request, obj, form, change)

    # Deleting conversations keeps their usage in GET /v1/usage (services.conversations_delete)
    # and records a conversation.delete each (audit log), as DELETE /v1/conversations/{id} does.
    def delete_model(self, request, obj):
        self.check_tenant(request, obj)
        conversations_delete_recorded(Conversation.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        conversations_delete_recorded(self.writable(request, queryset))

    # The admin's history names a conversation by its id, not by its title (the first question).
    def log_change(self, request, obj, message):
        admin_log_entries(request.user.pk, [obj], CHANGE, message)

    def log_deletions(self, request, queryset):
        admin_log_entries(request.user.pk, queryset, DELETION)


@admin.register(Message)
class MessageAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """A message is the record of a chat turn: what was asked and answered, what it cost (the
    tokens GET /v1/usage sums, per bot and day), how long it took, with which model, how it
    ended, what it cited and the end user's feedback. Those are read-only here: edited, they
    changed the tenant's usage and feedback history after the fact, and a message moved to
    another conversation or bot took its usage with it. Only ``content`` (to redact personal
    data from a transcript) and ``metadata`` change. Messages are not added here either (an
    added one counted in /v1/usage as tokens never spent, outside its conversation's
    ``message_count``): chats write them. Redactions, other edits and deletes are audit events
    (``message.redact``, ``message.update``, ``message.delete``: ``conversations.message_edits``),
    without the text."""

    list_display = ("id", "tenant", "role", "finish_reason", "feedback_rating", "created_at")
    list_filter = ("tenant", "role", "finish_reason", "feedback_rating")
    readonly_fields = (
        "conversation", "bot", "role", "citations", "prompt_tokens", "completion_tokens",
        "total_tokens", "latency_ms", "model", "finish_reason", "refused", "refusal_reason",
        "error", "feedback_rating", "feedback_comment", "feedback_at",
    )  # fmt: skip
    # The busiest table: each page read in the order of an index (msg_tenant_conv_idx: a
    # conversation's turns in time order), not sorted whole (Meta's created_at has only a BRIN
    # index), and counted once, not twice (no "N total"). 600,000 messages: the page's query
    # 1.2 s -> 3 ms, the page 1.9 s -> 0.25 s (superuser), 0.9 s -> 0.16 s (tenant staff).
    ordering = ("tenant_id", "conversation_id", "created_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    # Each through conversations.message_edits, recorded in the audit log there (message.redact,
    # message.update, message.delete), once: audit_type stays None, so admin_hooks adds none.
    def save_model(self, request, obj, form, change):
        self.check_tenant(request, obj)
        message_save_recorded(obj)

    # Deleting messages keeps their usage in GET /v1/usage, as deleting conversations does.
    def delete_model(self, request, obj):
        self.check_tenant(request, obj)
        messages_delete_recorded(Message.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        messages_delete_recorded(self.writable(request, queryset))

    # The admin's history names a message by role and id, not by its first words.
    def log_change(self, request, obj, message):
        admin_log_entries(request.user.pk, [obj], CHANGE, message)

    def log_deletions(self, request, queryset):
        admin_log_entries(request.user.pk, queryset, DELETION)
