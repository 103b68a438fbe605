"""Cursor pagination with API.md's body: {"data": [...], "next": "<cursor or null>"}."""

from __future__ import annotations

from base64 import b64decode
from urllib.parse import parse_qs

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination
from rest_framework.response import Response

from chatbot_project.errors import APIError


def _bad_cursor() -> APIError:
    return APIError("cursor is not valid; use the `next` value of a previous page.")


class CursorPagination(pagination.CursorPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "limit"
    page_size_query_description = "How many items per page: 1 to 100 (default 20)."
    cursor_query_description = "The `next` value of the previous page; omit for the first page."
    ordering = ("-created_at", "-id")

    def get_page_size(self, request):
        raw = request.query_params.get("limit")
        if raw is None:
            return self.page_size
        # ASCII digits only: int() also takes "１０" (fullwidth) and " 10 "
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise APIError("limit must be an integer between 1 and 100.")
        return int(raw)

    def decode_cursor(self, request):
        raw = request.query_params.get(self.cursor_query_param)
        # DRF's decoder skips characters that are not base64, so `?cursor=!!!` read as no
        # cursor at all: page one again, a client's loop never ending. Ours are strict base64
        # of a query string naming at least one of o, r, p.
        if raw:
            try:
                decoded = b64decode(raw.encode("ascii"), validate=True).decode("ascii")
            except (ValueError, UnicodeError):
                raise _bad_cursor() from None
            if not set(parse_qs(decoded, keep_blank_values=True)) & {"o", "r", "p"}:
                raise _bad_cursor()
        try:
            return super().decode_cursor(request)
        except Exception:
            raise _bad_cursor() from None

    def paginate_queryset(self, queryset, request, view=None):
        """A cursor that decodes but whose position is not a value of the ordering field (only
        a cursor not made by us) is refused like an undecodable one: it was a 500 (ValueError
        on an integer ordering) or a 400 quoting Django's date format."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            if self.cursor_query_param not in request.query_params:
                raise
            raise _bad_cursor() from None

    def get_next_token(self) -> str | None:
        url = self.get_next_link()
        if not url:
            return None
        from urllib.parse import urlparse

        return parse_qs(urlparse(url).query).get(self.cursor_query_param, [None])[0]

    def get_paginated_response(self, data):
        return Response({"data": data, "next": self.get_next_token()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "next"],
            "properties": {"data": schema, "next": {"type": "string", "nullable": True}},
        }
