from __future__ import annotations

from rest_framework import serializers

from audit.models import AuditEvent


class AuditActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=AuditEvent.ActorType.choices, source="actor_type")
    id = serializers.CharField(source="actor_id", help_text="A user id, a key id, an OS user.")
    label = serializers.CharField(
        source="actor_label", help_text="A username, a key's prefix and name, `cli:<os user>`."
    )


class AuditObjectSerializer(serializers.Serializer):
    type = serializers.CharField(source="object_type")
    id = serializers.CharField(source="object_id")
    label = serializers.CharField(source="object_label")


class AuditEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField(help_text="`<object type>.<verb>`, e.g. `api_key.revoke`.")
    actor = AuditActorSerializer(source="*")
    object = AuditObjectSerializer(source="*")
    changes = serializers.JSONField(
        help_text='For an update, each changed field: `{"old", "new"}` (small values) or '
        '`{"changed": true}`. Never key material, passwords, TOTP secrets or document text.'
    )
    via = serializers.CharField(help_text="`api`, `admin`, `cli`, or empty (a worker).")
    request_id = serializers.CharField(help_text="The X-Request-ID of the request that made it.")
    client_address = serializers.CharField()
