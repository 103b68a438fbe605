from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from tenants.models import Tenant
from tenants.quotas import usage, validate_quotas
from tenants.views import StrictSerializer, validate_printable, validate_rate_limit


class TenantSerializer(StrictSerializer):
    id = serializers.UUIDField(read_only=True)
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(max_length=200, required=False, validators=[validate_printable])
    default_model = serializers.CharField(
        max_length=100, required=False, allow_blank=True, validators=[validate_printable]
    )
    default_rate_limit = serializers.CharField(
        max_length=20, required=False, allow_blank=True, validators=[validate_rate_limit],
        help_text='Limit for keys without their own, e.g. "60/m"; blank = the instance default.',
    )  # fmt: skip
    quotas = serializers.DictField(
        required=False, validators=[validate_quotas],
        help_text="Limits on the tenant's size, replaced whole by a PATCH: any of max_bots, "
        "max_datasets, max_documents, max_storage_mb (stored document files, MiB), max_api_keys "
        "(active keys), each a whole number >= 0 or null (no limit). Creating beyond one is "
        "a 409 conflict.",
    )  # fmt: skip
    usage = serializers.DictField(
        read_only=True,
        help_text="What the quotas count now: bots, datasets, documents, storage_mb, api_keys.",
    )
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
            "usage": usage(tenant),
            "created_at": dt.to_representation(tenant.created_at),
            "updated_at": dt.to_representation(tenant.updated_at),
        }


# Request bodies named ...Request: drf-spectacular adds "Request" to a request body's component
# (COMPONENT_SPLIT_REQUEST), so the schema named them TokenObtainRequestRequest and
# RefreshRequestRequest. Named without it here, they are TokenObtainRequest and RefreshRequest.
@extend_schema_serializer(component_name="TokenObtain")
class TokenObtainRequest(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()
    otp = serializers.CharField(
        required=False,
        help_text="The current one-time code, for a user with a TOTP device (otp_enroll).",
    )


class TokenPair(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


@extend_schema_serializer(component_name="Refresh")
class RefreshRequest(serializers.Serializer):
    refresh = serializers.CharField()
