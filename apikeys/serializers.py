from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from apikeys.cors import canonical_origin
from apikeys.models import PERMISSIONS, APIKey
from tenants.views import StrictSerializer, validate_printable, validate_rate_limit


def _dt(value: Any) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


class APIKeySerializer(StrictSerializer):
    """A key as listed; the secret itself is only in the creation answer (``key``)."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(max_length=200, validators=[validate_printable])
    prefix = serializers.CharField(read_only=True, help_text="Public start of the key.")
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=PERMISSIONS), required=False, max_length=4,
        allow_empty=False,
        help_text="One or more of chat, read, write, admin (default chat + read).",
    )  # fmt: skip
    # Named by slug or id, as chats name them (and as create_api_key --bots takes them);
    # resolved in the caller's tenant (bots.selectors.bots_by_refs). Answers list ids.
    bots = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=1000,
        help_text="If set, the key may only use these bots. Each by slug or id, in the caller's "
        "tenant (another tenant's is unknown: a 400); answers list their ids.",
    )  # fmt: skip
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=1000,
        help_text="If set, the key may only chat under these scopes. Each by slug or id, in the "
        "caller's tenant (another tenant's is unknown: a 400); answers list their ids.",
    )  # fmt: skip
    rate_limit = serializers.CharField(
        max_length=20, required=False, allow_blank=True, validators=[validate_rate_limit],
        help_text='e.g. "60/m"; blank = the tenant default.',
    )  # fmt: skip
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, max_length=100,
        help_text="Browser origins (https://example.com) allowed to use the key.",
    )  # fmt: skip
    limited_to_bots = serializers.BooleanField(
        read_only=True, help_text="True: the key may use only `bots` (none if that list is empty).",
    )  # fmt: skip
    limited_to_scopes = serializers.BooleanField(
        read_only=True,
        help_text="True: the key may chat only under `scopes` (none if that list is empty).",
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    rotated_from = serializers.UUIDField(
        read_only=True, allow_null=True, help_text="The key this one replaced, if rotated."
    )

    def validate_expires_at(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value

    def validate_allowed_origins(self, value: list[str]) -> list[str]:
        """Stored as browsers send ``Origin`` (``HTTPS://A.com:443`` -> ``https://a.com``), since
        they are matched exactly."""
        out = []
        for origin in value:
            origin = origin.strip().rstrip("/")
            canonical = "*" if origin == "*" else canonical_origin(origin)
            if canonical is None:
                raise serializers.ValidationError(
                    f"{origin!r} is not an origin; use scheme://host[:port], e.g. https://example.com."
                )
            out.append(canonical)
        return list(dict.fromkeys(out))

    def to_representation(self, key: APIKey) -> dict[str, Any]:
        return {
            "id": str(key.id),
            "name": key.name,
            "prefix": key.prefix,
            "permissions": list(key.permissions),
            "bots": [str(b.pk) for b in key.bots.all()],
            "scopes": [str(s.pk) for s in key.scopes.all()],
            # An empty list reads as "no limit" unless these say otherwise (its bots or scopes
            # were deleted: the key is limited to none).
            "limited_to_bots": key.limited_to_bots,
            "limited_to_scopes": key.limited_to_scopes,
            "rate_limit": key.rate_limit,
            "allowed_origins": list(key.allowed_origins),
            "expires_at": _dt(key.expires_at),
            "revoked_at": _dt(key.revoked_at),
            "last_used_at": _dt(key.last_used_at),
            "created_at": _dt(key.created_at),
            "rotated_from": str(key.rotated_from_id) if key.rotated_from_id else None,
        }


class APIKeyCreatedSerializer(APIKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The full key; shown this once only.")

    def to_representation(self, pair: Any) -> dict[str, Any]:
        row, raw = pair
        return {**super().to_representation(row), "key": raw}


class APIKeyRotateSerializer(StrictSerializer):
    previous_valid_for = serializers.IntegerField(
        required=False, min_value=0, max_value=7 * 24 * 3600, default=3600,
        help_text="Seconds the old key keeps working (0: revoked now; default 3600, at most "
        "7 days). An expiry already sooner is kept.",
    )  # fmt: skip


class APIKeyRotatedSerializer(APIKeyCreatedSerializer):
    previous_expires_at = serializers.DateTimeField(
        read_only=True, help_text="When the old key (`rotated_from`) stops working."
    )

    def to_representation(self, triple: Any) -> dict[str, Any]:
        new, raw, old = triple
        return {**super().to_representation((new, raw)), "previous_expires_at": _dt(old.expires_at)}
