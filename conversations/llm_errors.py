"""What ``conversations/llm.py`` and ``conversations/llm_stream.py`` share: the provider error,
its sentences for the API client, and the usage counts of an answer. A module of its own so that
the stream decoder does not import the provider module that imports it; ``llm`` re-exports every
name, so ``from conversations.llm import LLMError`` keeps working."""

from __future__ import annotations

import contextlib
import time
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
    """The model provider failed; the message is a sentence for the API client.
    ``retry_after``: the seconds the provider asked to wait (``retry_after_seconds``), passed
    on to the client (``Retry-After``, ``details.retry_after``); None when it named none.
    ``retryable`` False: the provider refused the request itself (credentials, model, request),
    so asking again cannot help (``details.retryable``, ``X-Should-Retry: false``)."""

    type = "upstream_error"
    status_code = 502

    def __init__(
        self, message: str, *, retry_after: int | None = None, retryable: bool = True
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.retryable = retryable

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


MAX_RETRY_AFTER = 86_400  # a day: a longer (or absurd) wait asked for is passed on as this


def retry_after_seconds(headers: Any) -> int | None:
    """The wait an upstream error answer asks for, in whole seconds (at least 1, rounded up):
    ``retry-after-ms`` (OpenAI's, read first as its SDKs read it), else ``Retry-After`` in
    seconds or as an HTTP date. None when it names none or cannot be read."""
    import math
    from datetime import UTC
    from email.utils import parsedate_to_datetime

    def header(name: str) -> str:
        value = headers.get(name) if headers is not None else None
        return value.strip() if isinstance(value, str) else ""

    seconds: float | None = None
    with contextlib.suppress(ValueError):
        seconds = float(header("retry-after-ms")) / 1000
    if seconds is None or not math.isfinite(seconds):
        value, seconds = header("retry-after"), None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:  # "-0000": UTC
                when = when.replace(tzinfo=UTC)
            seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(1, math.ceil(seconds)))
