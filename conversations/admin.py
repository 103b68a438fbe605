from django.contrib import admin

from conversations.models import Conversation, Message
from tenants.admin_scoping import TenantScopedAdminMixin


@admin.register(Conversation)
class ConversationAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("id", "tenant", "bot", "user", "message_count", "created_at")
    list_filter = ("tenant",)


@admin.register(Message)
class MessageAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    list_display = ("id", "tenant", "role", "finish_reason", "feedback_rating", "created_at")
    list_filter = ("tenant", "role", "finish_reason")
    raw_id_fields = ("conversation", "bot")
