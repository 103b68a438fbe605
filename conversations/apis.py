"""Thin DRF views: retrieval, conversations and usage (chat itself is in streaming.py, feedback
in feedback_api.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from chatbot_project.errors import APIError
from chatbot_project.lean import lean_async
from chatbot_project.pagination import CursorPagination
from conversations import selectors, services
from conversations.chat_input import MAX_USER_CHARS
from conversations.guardrails import redact_headings, redact_terms
from conversations.serializers import (
    ConversationDetailSerializer,
    ConversationSerializer,
    ErasedSerializer,
    MessageSerializer,
    UsageSerializer,
)
from conversations.usage import TOTALLED, usage_by_day
from tenants.views import StrictSerializer


# --------------------------------------------------------------------------- input
class RetrieveInput(StrictSerializer):  # JSON types as documented: no coercion
    bot = serializers.CharField(required=False)
    datasets = serializers.ListField(child=serializers.UUIDField(), required=False)
    query = serializers.CharField(max_length=10_000, trim_whitespace=True)
    top_k = serializers.IntegerField(required=False, min_value=1, max_value=50)
    scope = serializers.CharField(required=False)
    mode = serializers.ChoiceField(choices=["vector", "keyword", "hybrid"], required=False)
    score_threshold = serializers.FloatField(required=False, min_value=0.0, max_value=1.0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("bot") and not attrs.get("datasets"):
            raise serializers.ValidationError("Send `bot` (slug or id) or `datasets` (ids).")
        return attrs


_RETRIEVE_FIELDS = frozenset(RetrieveInput._declared_fields)


def retrieve_input(payload: Any) -> dict[str, Any]:
    """``RetrieveInput``'s validated data. A plain well-formed request (``bot``, not
    ``datasets``; every value of its JSON type and in range) is checked here directly, ~0.01 ms
    instead of DRF's ~0.28 on the /v1/retrieve hot path; anything else goes through DRF, which
    words the errors. Same result either way (tests/test_retrieve_input.py)."""
    fast = _plain_retrieve_input(payload)
    if fast is not None:
        return fast
    params = RetrieveInput(data=payload if isinstance(payload, dict) else {})
    if not params.is_valid():
        raise APIError(_first_error(params.errors), details={"fields": params.errors})
    return dict(params.validated_data)


def _plain_text(value: Any) -> bool:
    """A string DRF's CharField takes as it is (no null or surrogate characters)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _plain_retrieve_input(p: Any) -> dict[str, Any] | None:
    if not isinstance(p, dict) or not p.keys() <= _RETRIEVE_FIELDS or "datasets" in p:
        return None
    query = p.get("query")
    if not _plain_text(query) or not 0 < len(query) <= 10_000 or not query.strip():
        return None
    out: dict[str, Any] = {"query": query.strip()}
    for name in ("bot", "scope"):
        if name in p:
            value = p[name]
            if not _plain_text(value) or not value or value != value.strip():
                return None
            out[name] = value
    if "bot" not in out:
        return None
    if "top_k" in p:
        top_k = p["top_k"]
        if type(top_k) is not int or not 1 <= top_k <= 50:
            return None
        out["top_k"] = top_k
    if "mode" in p:
        if p["mode"] not in ("vector", "keyword", "hybrid"):
            return None
        out["mode"] = p["mode"]
    if "score_threshold" in p:
        value = p["score_threshold"]
        if type(value) not in (int, float) or not 0.0 <= value <= 1.0:
            return None
        out["score_threshold"] = float(value)
    return out


# --------------------------------------------------------------------------- views
def _retrieve(ctx: Any, p: dict[str, Any], embedding: Any = None) -> dict[str, Any]:
    """The retrieval request in one worker-thread hop: resolve, filter, search, serialise.
    ``embedding``: the query's embedding already started (a Future), used when the mode
    needs one. A bot this process has read before is confirmed in the search's own round trip
    (``selectors.with_bot``)."""
    if p.get("bot"):
        return selectors.with_bot(
            tenant=ctx.tenant, ref=p["bot"], context=ctx,
            work=lambda bot: _retrieve_with(ctx, p, embedding, bot),
        )  # fmt: skip
    return _retrieve_with(ctx, p, embedding, None)


def _retrieve_with(ctx: Any, p: dict[str, Any], embedding: Any, bot: Any) -> dict[str, Any]:
    from datasets.models import Dataset
    from datasets.retrieval import retrieve

    tenant = ctx.tenant
    if bot is not None:
        dataset_ids = selectors.bot_dataset_ids(bot)
        if p.get("datasets"):  # narrowing within the bot's datasets
            dataset_ids = [d for d in dataset_ids if d in set(p["datasets"])]
    else:
        if ctx.allowed_bot_ids is not None:
            raise APIError(
                "This API key is limited to certain bots; send `bot` instead of `datasets`.",
                type="permission_denied", status_code=403,
            )  # fmt: skip
        wanted = set(p["datasets"])
        dataset_ids = list(
            Dataset.objects.for_tenant(tenant).filter(id__in=wanted).values_list("id", flat=True)
        )
        if len(dataset_ids) != len(wanted):
            raise APIError(
                "No such dataset, or it is not visible to this credential.",
                type="not_found", status_code=404,
            )  # fmt: skip
    if p.get("scope"):
        scope = selectors.scope_resolve(tenant=tenant, ref=p["scope"], context=ctx)
    elif bot is not None:
        scope = selectors.scope_fallback(ctx, bot.default_scope)
    elif ctx.allowed_scope_ids is not None:
        raise APIError(
            "This API key is limited to certain scopes; send `scope`.",
            type="permission_denied", status_code=403,
        )  # fmt: skip
    else:
        scope = None
    mode = p.get("mode") or (bot.retrieval_mode if bot else "hybrid")
    results = retrieve(
        tenant=tenant,
        query=p["query"],
        dataset_ids=dataset_ids,
        scope=scope,
        top_k=p.get("top_k") or (bot.top_k if bot else 5),
        mode=mode,
        score_threshold=p.get("score_threshold", bot.score_threshold if bot is not None else 0.0),
        query_vector=embedding if mode != "keyword" else None,  # a Future: retrieve() waits
    )
    terms = scope.redact_terms if scope is not None else ()
    return {
        "data": [
            {
                "chunk_id": r.chunk_id,
                "document_id": r.document_id,
                "document_title": redact_terms(r.document_title, terms),
                "text": redact_terms(r.text, terms),
                "score": r.score,
                "metadata": redact_headings(r.metadata, terms),
                "source": redact_terms(r.source, terms),
                "scores": r.scores,
            }
            for r in results
        ]
    }


def _first_error(errors: Any) -> str:
    if isinstance(errors, dict):
        for key, value in errors.items():
            inner = _first_error(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(errors, list) and errors:
        return _first_error(errors[0])
    return str(errors) or "Invalid request."


@lean_async
@csrf_exempt
async def retrieve_view(request: HttpRequest) -> HttpResponse:
    """POST /v1/retrieve (chat permission). An async view like /v1/chat: a sync DRF view runs in
    a fresh thread per request under ASGI, which opens a new PostgreSQL connection every time
    (several ms, more than the search itself); here the work runs in the chat DB thread pool."""
    from conversations.dbthreads import db_sync
    from conversations.streaming import (
        _with_rate_headers,
        authenticate_and_embed,
        error_json,
        parse_json,
    )

    if request.method != "POST":
        return error_json(
            APIError("Use POST for /v1/retrieve.", status_code=405, headers={"Allow": "POST"})
        )
    try:
        try:  # validated first for the query's cache lookup; errors count after authentication
            params, bad = retrieve_input(parse_json(request)), None
        except APIError as exc:
            params, bad = None, exc
        # The embedding (unless keyword-only) runs while the bot is read (wasted only when
        # the bot turns out to be keyword-only).
        question = params["query"] if params and params.get("mode") != "keyword" else None
        context, embedding = await authenticate_and_embed(request, question)
        if bad is not None:
            raise bad
        body = await db_sync(_retrieve)(context, params, embedding)
    except APIError as exc:
        return _with_rate_headers(request, error_json(exc))
    return _with_rate_headers(request, JsonResponse(body))


_PAGE = [
    OpenApiParameter("limit", int, description="Page size, 1-100 (default 20)."),
    OpenApiParameter("cursor", str, description="The `next` cursor of the previous page."),
]


class ConversationListView(APIView):
    pagination_class = CursorPagination  # (read by the schema: a {"data", "next"} page)

    @extend_schema(
        operation_id="conversations_list", responses={200: ConversationSerializer(many=True)},
        parameters=[
            *_PAGE,
            OpenApiParameter("bot", str, description="A bot's slug or id."),
            OpenApiParameter("user", str, description="The end-user id sent with the chats."),
            OpenApiParameter(
                "rating", str, enum=["up", "down"],
                description="Only conversations with an answer rated so (feedback).",
            ),
        ],
    )  # fmt: skip
    def get(self, request):
        qs = selectors.conversation_list(
            tenant=request.tenant,
            bot=request.query_params.get("bot"),
            user=request.query_params.get("user"),
            rating=request.query_params.get("rating"),
            context=request.auth_context,
        )
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(ConversationSerializer(page, many=True).data)

    @extend_schema(
        operation_id="conversations_erase_user", responses={200: ErasedSerializer},
        description=(
            "Beyond API.md: deletes every conversation of one end user (GDPR erasure) that this "
            "credential may read, with their messages; GET /v1/usage keeps their figures."
        ),
        parameters=[
            OpenApiParameter(
                "user", str, required=True,
                description="The end-user id sent with the chats (exactly; not empty).",
            ),
        ],
    )  # fmt: skip
    def delete(self, request):
        """One end user's conversations, erased in one call: the tenant's only, and for a key
        limited to certain bots or scopes only those it may read (as the single DELETE). A
        conversation being answered is deleted too, as the single DELETE does: its chat ends with
        an ``error`` event (``conflict``) and its answer is not stored."""
        user = request.query_params.get("user")
        if not user or len(user) > MAX_USER_CHARS:
            raise APIError(
                "`user` is required: the end-user id whose conversations to delete, as sent with "
                f"the chats (1 to {MAX_USER_CHARS} characters).",
                details={"fields": {"user": ["Name one end user."]}},
            )
        from conversations.erasure import end_user_erase  # (the chat paths need none of it)

        context = request.auth_context
        qs = selectors.conversations_of_end_user(tenant=request.tenant, user=user, context=context)
        restricted = context is not None and (
            context.allowed_bot_ids is not None or context.allowed_scope_ids is not None
        )
        conversations, messages = end_user_erase(
            tenant=request.tenant, user=user, conversations=qs, restricted=restricted
        )
        return Response({"deleted": {"conversations": conversations, "messages": messages}})


class ConversationDetailView(APIView):
    @extend_schema(responses={200: ConversationDetailSerializer})
    def get(self, request, conversation_id):
        conv = selectors.conversation_get(
            tenant=request.tenant, conversation_id=conversation_id, context=request.auth_context
        )
        body = ConversationSerializer(conv).data
        messages = selectors.conversation_messages(tenant=request.tenant, conversation=conv)
        body["messages"] = MessageSerializer(messages, many=True).data
        return Response(body)

    @extend_schema(responses={204: None})
    def delete(self, request, conversation_id):
        conv = selectors.conversation_get(
            tenant=request.tenant, conversation_id=conversation_id, context=request.auth_context
        )
        services.conversation_delete(tenant=request.tenant, conversation=conv)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _date(value: str | None, name: str) -> date | None:
    if value is None:  # absent; present but empty is refused like any other non-date
        return None
    try:
        if len(value) != 10:  # a date, not a datetime ("2026-11-24T23:00+05:00" was cut)
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise APIError(f"`{name}` must be a date such as 2026-11-24.") from None


class UsageView(APIView):
    @extend_schema(
        responses={200: UsageSerializer},
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD, a UTC day)."
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="Last day, included (YYYY-MM-DD, a UTC day)."
            ),
            OpenApiParameter("bot", str, description="A bot's slug or id."),
        ],
    )  # fmt: skip
    def get(self, request):
        start = _date(request.query_params.get("from"), "from")
        end = _date(request.query_params.get("to"), "to")
        if start and end and start > end:  # (an empty answer read as "no usage")
            raise APIError(f"`from` ({start}) is after `to` ({end}); swap them.")
        rows = usage_by_day(
            tenant=request.tenant, start=start, end=end, bot=request.query_params.get("bot"),
            context=request.auth_context,
        )  # fmt: skip
        totals = {k: sum(r[k] for r in rows) for k in TOTALLED}
        return Response({"data": rows, "totals": totals})
