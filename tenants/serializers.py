from __future__ import annotations

from typing import Any

from rest_framework import serializers

from tenants.models import Tenant
from tenants.views import StrictSerializer, validate_printable, validate_rate_limit


class TenantSerializer(StrictSerializer):
    id = serializers.UUIDField(read_only=True)
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(max_length=200, required=False, validators=[validate_printable])
    default_model = serializers.CharField(max_length=100, required=False, allow_blank=True)
    default_rate_limit = serializers.CharField(
        max_length=20, required=False, allow_blank=True, validators=[validate_rate_limit],
        help_text='Limit for keys without their own, e.g. "60/m"; blank = the instance default.',
    )  # fmt: skip
    quotas = serializers.DictField(required=False, help_text="Free-form quota settings.")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, tenant: Tenant) -> dict[str, Any]:
        dt = serializers.DateTimeField()
        return {
            "id": str(tenant.id),
            "slug": tenant.slug,
            "name": tenant.name,
            "default_model": tenant.default_model,
            "default_rate_limit": tenant.default_rate_limit,
            "quotas": tenant.quotas,
            "created_at": dt.to_representation(tenant.created_at),
            "updated_at": dt.to_representation(tenant.updated_at),
        }


class TokenObtainRequest(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


class TokenPair(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshRequest(serializers.Serializer):
    refresh = serializers.CharField()
