"""GET /v1/audit (admin): the tenant's audit log, newest first (beyond API.md)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from audit import selectors
from audit.serializers import AuditEventSerializer
from chatbot_project.errors import APIError
from conversations.chat_input import MAX_USER_CHARS
from tenants.views import TenantAPIView

_ACTION = re.compile(r"[a-z_]{1,32}(\.[a-z_]{0,31})?", re.ASCII)
_TYPE = re.compile(r"[a-z_]{1,32}", re.ASCII)


def _bad(name: str, sentence: str) -> APIError:
    return APIError(f"`{name}` {sentence}", details={"fields": {name: [sentence]}})


def _moment(value: str | None, name: str, *, end: bool) -> dt.datetime | None:
    """A date (``to``: the whole day included) or a datetime with its offset, as UTC."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            moment = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
            return moment + dt.timedelta(days=1) if end else moment
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _bad(name, "must be a date such as 2026-11-24 or a time with its offset such as "
                   "2026-11-24T09:30:00Z.")  # fmt: skip
    return moment


def period(params: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The ``from`` and ``to`` query parameters (``_moment``), ``from`` before ``to``: what
    GET /v1/audit and GET /v1/unanswered take, read alike."""
    start = _moment(params.get("from"), "from", end=False)
    end = _moment(params.get("to"), "to", end=True)
    if start and end and start >= end:
        raise APIError(f"`from` ({params['from']}) is not before `to` ({params['to']}).")
    return start, end


def _text(params: Any, name: str, pattern: re.Pattern | None, most: int) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not value or len(value) > most or (pattern is not None and not pattern.fullmatch(value)):
        example = {"action": "api_key.revoke (or api_key.)", "object_type": "bot"}.get(name)
        hint = f"; e.g. {example}" if example else ""
        raise _bad(name, f"is not a valid value (1 to {most} characters{hint}).")
    return value


class AuditListAPI(TenantAPIView):
    serializer_class = AuditEventSerializer
    required_permission = "admin"

    @extend_schema(
        operation_id="audit_list",
        responses=AuditEventSerializer(many=True),
        description=(
            "Beyond API.md: who changed what in this tenant (the tenant's creation, API keys, "
            "bots, scopes, datasets, documents and their chunks, tenant settings and quotas, "
            "members, conversations deleted or erased, messages redacted, edited or deleted in "
            "the admin), through the API, the admin or a "
            "management command, newest first. Append-only; kept until `manage.py purge_audit`."
        ),
        parameters=[
            OpenApiParameter("limit", int, description="Page size, 1-100 (default 20)."),
            OpenApiParameter("cursor", str, description="The `next` cursor of the previous page."),
            OpenApiParameter(
                "action", str,
                description="An action (`api_key.revoke`), or all of a type's (`api_key.`).",
            ),
            OpenApiParameter("object_type", str, description="`api_key`, `bot`, `document`..."),
            OpenApiParameter("object_id", str, description="The changed object's id."),
            OpenApiParameter(
                "actor", str,
                description="A user id or username, an API key's id or prefix, `cli:<os user>`.",
            ),
            OpenApiParameter(
                "end_user", str,
                description="An end-user id as sent with the chats: the deletions and erasures "
                "of their conversations (matched through a keyed hash; the id is not stored).",
            ),
            OpenApiParameter(
                "from", OpenApiTypes.DATETIME,
                description="From this time (or date, UTC) on, included.",
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATETIME,
                description="Before this time; a date includes its whole day (UTC).",
            ),
        ],
    )  # fmt: skip
    def get(self, request: Any) -> Response:
        params = request.query_params
        start, end = period(params)
        qs = selectors.audit_event_list(
            tenant=self.tenant,
            action=_text(params, "action", _ACTION, 64),
            object_type=_text(params, "object_type", _TYPE, 32),
            object_id=_text(params, "object_id", None, 64),
            actor=_text(params, "actor", None, 200),
            start=start,
            end=end,
            end_user=_text(params, "end_user", None, MAX_USER_CHARS),
        )
        return self.list_response(qs, AuditEventSerializer)
