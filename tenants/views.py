"""Small shared pieces for the tenant-scoped DRF views of every app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from chatbot_project.errors import APIError
from chatbot_project.jsonbody import StrictJSONParser
from chatbot_project.pagination import CursorPagination


class TenantAPIView(GenericAPIView):
    # Base view: ``self.tenant``/``self.auth`` from authentication, cursor pagination. (A comment,
    # not a docstring: drf-spectacular would publish it as every subclass's description.)

    pagination_class = CursorPagination
    # API.md: JSON bodies, anything else is 415; NUL, NaN, unpaired surrogates and absurd
    # nesting are a 400 before any view sees them (chatbot_project/jsonbody.py).
    parser_classes = [StrictJSONParser]

    @property
    def tenant(self) -> Any:
        return self.request.tenant

    @property
    def auth(self) -> Any:
        return self.request.auth_context

    def list_response(self, queryset: Any, serializer_class: type) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def parse(self, serializer_class: type, *, partial: bool = False) -> dict[str, Any]:
        try:
            data = self.request.data
        except RequestDataTooBig:
            raise APIError(
                f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes; "
                "send less.",
                type="payload_too_large",
                status_code=413,
            ) from None
        serializer = serializer_class(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class StrictSerializer(serializers.Serializer):
    # Rejects unknown fields (a typo like `dataset` must not be silently ignored), and
    # read-only ones (`{"slug": ...}` on /v1/tenant answered 200 and changed nothing).
    # A comment, not a docstring: drf-spectacular publishes the nearest docstring as the
    # description of every serializer built on this one (Bot, Scope, Tenant... in /docs).

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            nested = self.parent is not None
            message = (
                "Must be a JSON object." if nested else "Send a JSON object as the request body."
            )
            raise serializers.ValidationError({"non_field_errors": [message]})
        unknown = sorted(name for name in data if name not in self.fields)
        read_only = sorted(
            name for name in data if name in self.fields and self.fields[name].read_only
        )
        problems = {
            name: ["Unknown field; see /docs for this resource's fields."] for name in unknown
        }
        problems.update({name: ["Read-only; it cannot be set."] for name in read_only})
        if problems:
            raise serializers.ValidationError(problems)
        wrong = {
            name: [problem]
            for name, field in self.fields.items()
            if name in data and not field.read_only
            for problem in [_type_problem(field, data[name])]
            if problem
        }
        if wrong:
            raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


def _type_problem(field: serializers.Field, value: Any) -> str | None:
    """JSON types as the schema says them: DRF would quietly coerce 5 to "5" or "true" to True."""
    if value is None:
        return None  # allow_null decides
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return "Must be true or false."
    if isinstance(field, serializers.IntegerField) and (
        isinstance(value, bool) or not isinstance(value, int)
    ):
        return "Must be an integer."
    if isinstance(field, serializers.FloatField) and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        return "Must be a number."
    if isinstance(field, serializers.CharField | serializers.UUIDField) and not isinstance(
        value, str
    ):
        return "Must be a string."  # a UUID too: DRF would read 5 as 00000000-...-000000000005
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        for item in value:
            problem = _type_problem(field.child, item)
            if problem:
                return f"Each item: {problem[0].lower()}{problem[1:]}"
    return None


def validate_printable(value: str) -> str:
    """Serializer validator for names: no control characters (a newline or escape sequence in a
    name garbles lists, logs and the admin; the management commands refuse them too)."""
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
        raise serializers.ValidationError("Use printable text only (no control characters).")
    return value


def validate_rate_limit(value: str) -> str:
    """Serializer validator: "<count>/<s|m|h|d>" with a count of at least 1 (or blank)."""
    from apikeys.ratelimit import parse_limit

    if value:
        try:
            parse_limit(value)
        except ValueError:
            raise serializers.ValidationError(
                'Use "<count>/<s|m|h|d>" with a count of at least 1, for example "60/m".'
            ) from None
    return value


def invalid(exc: DjangoValidationError) -> APIError:
    """A model ``full_clean()`` failure as API.md's 400 body with per-field details."""
    if hasattr(exc, "message_dict"):
        fields = exc.message_dict
        name, messages = next(iter(fields.items()))
        prefix = "" if name == "__all__" else f"{name}: "
        return APIError(f"{prefix}{messages[0]}", details={"fields": fields})
    return APIError(exc.messages[0] if exc.messages else "Invalid request.")
