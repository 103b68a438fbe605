"""Cursor pagination with API.md's body: {"data": [...], "next": "<cursor or null>"}."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.response import Response

from chatbot_project.errors import APIError


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
        try:
            size = int(raw)
        except ValueError:
            raise APIError("limit must be an integer between 1 and 100.") from None
        if not 1 <= size <= self.max_page_size:
            raise APIError("limit must be an integer between 1 and 100.")
        return size

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except Exception:
            raise APIError(
                "cursor is not valid; use the `next` value of a previous page."
            ) from None

    def get_next_token(self) -> str | None:
        url = self.get_next_link()
        if not url:
            return None
        from urllib.parse import parse_qs, urlparse

        return parse_qs(urlparse(url).query).get(self.cursor_query_param, [None])[0]

    def get_paginated_response(self, data):
        return Response({"data": data, "next": self.get_next_token()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "next"],
            "properties": {"data": schema, "next": {"type": "string", "nullable": True}},
        }
