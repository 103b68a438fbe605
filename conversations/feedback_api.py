"""``/v1/messages/{id}/feedback``: an end user rates an answer (POST, API.md) or withdraws the
rating (DELETE, an addition: the widget's and playground's thumbs toggle). Both need the `chat`
permission and apply the same visibility: another tenant's message, one outside the key's bots or
scopes, and (when a `user` is named, always with a browser key) another end user's answer are
404s worded as for an id that exists nowhere."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from chatbot_project.errors import APIError, NotFound
from chatbot_project.jsonbody import StrictJSONParser
from conversations import selectors, services
from conversations.chat_input import MAX_USER_CHARS
from conversations.models import Message
from conversations.serializers import MessageSerializer
from tenants.views import StrictSerializer

MISSING = "No such message, or it is not visible to this credential."


class FeedbackInput(StrictSerializer):  # JSON types as documented: no coercion
    rating = serializers.ChoiceField(choices=["up", "down"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    # The end user the chat named (the widget's visitor id): see MessageFeedbackView.
    user = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, trim_whitespace=False,
        max_length=MAX_USER_CHARS,
        help_text="The end user whose answer this is, as the chat named them. When set (always "
        "with a browser key), another end user's answer is a 404.",
    )  # fmt: skip


def _rated_message(request, message_id, user: str) -> Message:
    """The answer this credential (and end user, when named) may rate, else a 404."""
    msg = selectors.message_get(tenant=request.tenant, message_id=message_id)
    ctx = request.auth_context
    limited = ctx.allowed_bot_ids is not None or ctx.allowed_scope_ids is not None
    if (
        limited
        and not selectors.visible_to(
            Message.objects.filter(id=msg.id), ctx, "conversation__"
        ).exists()
    ):
        raise APIError(MISSING, type="not_found", status_code=404)
    # As for continuing a conversation (selectors.conversation_to_continue): a rating that
    # names a `user`, or comes with a browser key (its visitors are not trusted to leave it
    # out), rates only that end user's answers; another's reads as missing.
    if (user or ctx.allowed_origins) and not Message.objects.filter(
        id=msg.id, conversation__user=user
    ).exists():
        raise NotFound(MISSING)
    return msg


class MessageFeedbackView(APIView):
    required_permission = "chat"
    parser_classes = [StrictJSONParser]  # JSON bodies, as API.md says (forms were taken too)

    @extend_schema(request=FeedbackInput, responses={200: MessageSerializer})
    def post(self, request, message_id):
        params = FeedbackInput(data=request.data)
        params.is_valid(raise_exception=True)
        msg = _rated_message(request, message_id, params.validated_data.get("user") or "")
        msg = services.message_feedback(
            tenant=request.tenant,
            message=msg,
            rating=params.validated_data["rating"],
            comment=params.validated_data.get("comment", ""),
        )
        return Response(MessageSerializer(msg).data)

    @extend_schema(
        summary="Withdraw the rating of an answer",
        description=(
            "The answer is unrated again (its `feedback` null): `GET /v1/usage`'s `feedback_up` "
            "/ `feedback_down` and `GET /v1/conversations?rating=` no longer count it. Same "
            "permission (`chat`) and visibility as rating it; clearing an unrated answer is a "
            "204 too. No body: the end user goes in the `user` query parameter."
        ),
        parameters=[
            OpenApiParameter(
                "user",
                {"type": "string", "maxLength": MAX_USER_CHARS},
                required=False,
                description="The end user whose answer this is, as the chat named them (the "
                "widget's visitor id). When set (always with a browser key), another end user's "
                "answer is a 404.",
            ),
        ],
        responses={204: None},
    )
    def delete(self, request, message_id):
        if request.body:
            # (a `user` sent in a body would be ignored: a server key would then clear any
            # end user's rating, which the caller meant to restrict)
            raise APIError("DELETE takes no body; send `user` as a query parameter.")
        user = request.query_params.get("user", "")
        if len(user) > MAX_USER_CHARS:
            raise APIError(f"`user` is longer than {MAX_USER_CHARS} characters.")
        msg = _rated_message(request, message_id, user)
        services.message_feedback_clear(tenant=request.tenant, message=msg)
        return Response(status=status.HTTP_204_NO_CONTENT)
