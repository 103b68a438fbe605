from django.contrib import admin

from apikeys.models import APIKey


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "tenant", "permissions", "revoked_at", "last_used_at")
    list_filter = ("tenant",)
    readonly_fields = ("prefix", "key_hash", "last_used_at")
    search_fields = ("name", "prefix")
