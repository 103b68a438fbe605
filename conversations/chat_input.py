"""The chat request every transport turns its input into (``ChatInput.from_payload`` checks
a JSON body: every mistake is an ``APIError`` with a sentence saying what to send). Bodies and
frames reach it through ``chatbot_project.jsonbody.loads``, which already refused what cannot
be stored (NUL, unpaired surrogates, NaN)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatbot_project.errors import APIError

MAX_MESSAGE_CHARS = 100_000
MAX_USER_CHARS = 200  # Conversation.user's column
FIELDS = ("bot", "message", "conversation_id", "scope", "user", "stream", "metadata")
# Fields of other chat APIs a client may try here, and what this route takes instead.
_INSTEAD = {
    "history": "send `conversation_id` to continue a conversation (its turns are kept here), "
    "or use /v1/openai/chat/completions with `messages`",
    "messages": "send the question as `message` and `conversation_id` to continue, or use "
    "/v1/openai/chat/completions",
    "model": "name the bot in `bot`",
}


@dataclass
class ChatInput:
    bot: Any
    message: str
    conversation_id: Any = None
    scope: Any = None
    user: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    # OpenAI-compatible route: the client sends the history itself, and may ask for fewer
    # tokens than the bot's max_tokens (never more: the bot's value is the ceiling) and for
    # its own temperature (None: the bot's) and OpenAI's other sampling options (top_p, the
    # penalties, stop, seed, logit_bias: openai_params.PASSED), sent to the model as given.
    history: list[dict[str, str]] | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    sampling: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: Any, *, transport: tuple[str, ...] = ()) -> ChatInput:
        """``transport``: fields the transport itself reads (the WebSocket frame's ``type``).
        Any other unknown field is a 400 naming it, as on the other routes (a dropped
        ``history`` or ``temperature`` would silently not do what the client meant)."""
        if not isinstance(payload, dict):
            raise APIError("Send a JSON object with at least `bot` and `message`.")
        unknown = [k[:100] for k in payload if k not in FIELDS and k not in transport][:20]
        if unknown:
            name = unknown[0]
            hint = _INSTEAD.get(name, "see /docs for this route's fields")
            raise APIError(
                f"`{name}` is not a field of a chat request; {hint}.",
                details={"unknown_fields": unknown, "fields": list(FIELDS)},
            )
        if "stream" in payload and not isinstance(payload["stream"], bool):
            raise APIError("`stream` must be true or false.")
        message = payload.get("message")
        if not isinstance(message, str) or not message.strip():
            raise APIError("`message` is required: the user's question as a non-empty string.")
        if len(message) > MAX_MESSAGE_CHARS:
            raise APIError(f"`message` is longer than {MAX_MESSAGE_CHARS} characters.")
        bot = payload.get("bot")
        if not isinstance(bot, str) or not bot:
            raise APIError("`bot` is required: the bot's slug or id.")
        # null is the default; another falsy value ([], 0, false) is a wrong type like any other
        user = payload.get("user")
        user = "" if user is None else user
        metadata = payload.get("metadata")
        metadata = {} if metadata is None else metadata
        if not isinstance(user, str) or len(user) > MAX_USER_CHARS:
            raise APIError(f"`user` must be a string of at most {MAX_USER_CHARS} characters.")
        if not isinstance(metadata, dict):
            raise APIError("`metadata` must be a JSON object.")
        conv = payload.get("conversation_id")
        scope = payload.get("scope")
        for name, value in (("conversation_id", conv), ("scope", scope)):
            if value is not None and not isinstance(value, str):
                raise APIError(f"`{name}` must be a string.")
        return cls(
            bot=bot, message=message, conversation_id=conv, scope=scope, user=user,
            metadata=metadata,
        )  # fmt: skip
