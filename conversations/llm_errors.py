"""What ``conversations/llm.py`` and ``conversations/llm_stream.py`` share: the provider error,
its sentences for the API client, and the usage counts of an answer. A module of its own so that
the stream decoder does not import the provider module that imports it; ``llm`` re-exports every
name, so ``from conversations.llm import LLMError`` keeps working."""

from __future__ import annotations

from typing import Any

ERROR_BODY_LOGGED = 2048  # bytes of an upstream error's body written to the log

TIMEOUT_MESSAGE = "The model provider did not answer in time; try again shortly."
UNREACHABLE_MESSAGE = "The model provider could not be reached; try again shortly."
FAILED_MESSAGE = "The model provider failed while answering; try again shortly."
INCOMPLETE_MESSAGE = "The model provider's stream ended before the answer was complete."
MALFORMED_CHUNK_MESSAGE = "The model provider sent a malformed stream chunk."
# What a browser key's visitor (anyone on the site, through the widget) is told instead: the
# provider's status and what the operator should fix are not theirs (server keys keep them).
VISITOR_MESSAGE = "The assistant cannot answer right now; please try again in a moment."


def provider_url() -> str:
    """``OPENAI_BASE_URL`` as the logs name it: without a user name, password or query, where a
    gateway's credentials may ride (``https://user:secret@gateway/v1``, ``...?key=...``)."""
    from urllib.parse import urlsplit, urlunsplit

    from django.conf import settings

    parts = urlsplit(settings.OPENAI_BASE_URL)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class LLMError(Exception):
    """The model provider failed; the message is a sentence for the API client."""

    type = "upstream_error"
    status_code = 502

    def message_for(self, context: Any) -> str:
        """The sentence for the chat's credential: a browser key's (one with
        ``allowed_origins``, used by a site's visitors) gets ``VISITOR_MESSAGE``, with or
        without an ``Origin``; a server-side key or a JWT, the detailed one."""
        return VISITOR_MESSAGE if getattr(context, "allowed_origins", ()) else str(self)


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
