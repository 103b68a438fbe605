"""GET /v1/unanswered (read): the tenant's content gaps (beyond API.md; conversations.gaps)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.apis import period  # the dates and times GET /v1/audit takes, read alike
from chatbot_project.errors import APIError
from chatbot_project.pagination import CursorPagination
from conversations.gaps import INCLUDABLE, REASONS, Position, unanswered


class UnansweredSerializer(serializers.Serializer):
    """One question (the schema's shape; rows are built by ``conversations.gaps``)."""

    question = serializers.CharField(help_text="Its latest wording.")
    count = serializers.IntegerField(help_text="Times asked (answers that were gaps).")
    first_asked = serializers.DateTimeField()
    last_asked = serializers.DateTimeField()
    bots = serializers.ListField(child=serializers.CharField(), help_text="Bot slugs.")
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=REASONS),
        help_text="Why its answers were gaps: ungrounded, no_sources, rated_down.",
    )
    conversation_id = serializers.UUIDField(help_text="The latest conversation that asked it.")
    message_id = serializers.UUIDField(help_text="That conversation's answer to it.")


def _included(value: str | None) -> bool:
    """``include=rated_down``: whether rated-down answers count too."""
    if value is None:
        return False
    names = [part.strip() for part in value.split(",")]
    unknown = [n for n in names if n not in INCLUDABLE]
    if unknown or not names:
        raise APIError(
            f"`include` takes {', '.join(INCLUDABLE)}; it was {value[:40]!r}.",
            details={"fields": {"include": [f"Use {', '.join(INCLUDABLE)}."]}},
        )
    return True


class UnansweredView(APIView):
    pagination_class = CursorPagination  # (read by the schema: a {"data", "next"} page)

    @extend_schema(
        operation_id="unanswered_list",
        responses={200: UnansweredSerializer(many=True)},
        description=(
            "Beyond API.md: content gaps, the questions users asked that the bots could not "
            "answer from the tenant's documents (refused as ungrounded, or answered with no "
            "source; with include=rated_down also answers rated down), grouped by their "
            "normalized text, most asked first. Guardrail refusals, failed and cancelled "
            "turns are not gaps."
        ),
        parameters=[
            OpenApiParameter("limit", int, description="Page size, 1-100 (default 20)."),
            OpenApiParameter("cursor", str, description="The `next` cursor of the previous page."),
            OpenApiParameter("bot", str, description="A bot's slug or id."),
            OpenApiParameter(
                "from", OpenApiTypes.DATETIME,
                description="Questions asked from this time (or date, UTC) on, included.",
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATETIME,
                description="Asked before this time; a date includes its whole day (UTC).",
            ),
            OpenApiParameter(
                "include", str, enum=list(INCLUDABLE),
                description="rated_down: answers their users rated down count too.",
            ),
        ],
    )  # fmt: skip
    def get(self, request: Any) -> Response:
        params = request.query_params
        start, end = period(params)
        limit = CursorPagination().get_page_size(request)
        cursor = params.get("cursor")
        rows, following = unanswered(
            tenant=request.tenant, bot=params.get("bot") or None, start=start, end=end,
            rated_down=_included(params.get("include")), context=request.auth_context,
            limit=limit, after=Position.parse(cursor) if cursor else None,
        )  # fmt: skip
        data = UnansweredSerializer(rows, many=True).data
        return Response({"data": data, "next": following.token() if following else None})
