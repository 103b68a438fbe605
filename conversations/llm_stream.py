"""Decoding of an OpenAI-compatible ``/chat/completions`` stream (server-sent events of JSON
chunks), for ``conversations/llm.py``'s ``OpenAIProvider``. Every payload that is not what the
protocol promises becomes ``LLMError`` (-> 502 ``upstream_error``), logged with its start: a
chunk of the wrong shape must not surface as a TypeError in the relay loop (the chat's
``internal_error``).

Decoded by hand rather than with the openai SDK's stream objects: see the comment above
``POOL_SHARDS`` in ``conversations/llm.py`` for the measured cost."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from conversations.llm_errors import (
    ERROR_BODY_LOGGED,
    FAILED_MESSAGE,
    MALFORMED_CHUNK_MESSAGE,
    LLMError,
    _usage,
    provider_url,
)

log = logging.getLogger("chatbot.llm")  # the provider's logger, as before the split


async def _sse_data(response: Any) -> AsyncIterator[bytes]:
    """The ``data:`` payloads of a server-sent event stream, as bytes (comments, ``event:``
    lines and blank separators skipped). Lines are split from the raw bytes: cheaper per token
    than httpx's text and line decoders."""
    pending = b""
    async for block in response.aiter_bytes():
        pending += block
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip()
    if pending.startswith(b"data:"):
        yield pending[5:].strip()


def _decode_chunk(data: bytes) -> dict[str, Any] | None:
    """One ``data:`` payload as a dict; None for ``[DONE]``. JSON that is not an object (``5``,
    ``[]``, ``null``) is a malformed chunk, as a wrong shape inside one is.

    ``[DONE]`` is skipped rather than ending the read: the body ends right after it, and reading
    to its end lets the connection go back to the pool instead of being closed.
    """
    if data == b"[DONE]":
        return None
    try:
        chunk = json.loads(data.decode())  # str: json skips its encoding detection
    except ValueError:
        raise LLMError("The model provider sent a malformed stream.") from None
    if type(chunk) is not dict:
        raise _malformed(chunk)
    if chunk.get("error"):
        log.warning(
            "model provider %s sent an error in its stream: %s", provider_url(),
            json.dumps(chunk["error"])[:ERROR_BODY_LOGGED],
        )  # fmt: skip
        raise LLMError(FAILED_MESSAGE)
    return chunk


def _choices(chunk: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    """``(content, finish_reason)`` of each of a chunk's choices, its shape checked: a chunk of
    another shape (``choices`` not a list, ``delta`` not an object, ``content`` not a string)
    is an ``LLMError``, not a TypeError in the relay loop (the chat's ``internal_error``)."""
    try:
        got = [
            ((c.get("delta") or {}).get("content"), c.get("finish_reason"))
            for c in chunk.get("choices") or ()
        ]
    except (AttributeError, TypeError):  # not a list of objects, or a delta not an object
        raise _malformed(chunk) from None
    for content, reason in got:
        if not (content is None or type(content) is str) or not (
            reason is None or type(reason) is str
        ):
            raise _malformed(chunk)
    return got


def _chunk_usage(chunk: dict[str, Any]) -> dict[str, int]:
    got = chunk["usage"]
    counts = [got.get("prompt_tokens"), got.get("completion_tokens")] if type(got) is dict else [""]
    if not all(n is None or (type(n) is int and n >= 0) for n in counts):
        raise _malformed(chunk)
    return _usage(counts[0] or 0, counts[1] or 0)


def _malformed(chunk: Any) -> LLMError:
    log.warning(
        "model provider %s sent a malformed stream chunk: %s", provider_url(),
        json.dumps(chunk)[:ERROR_BODY_LOGGED],
    )  # fmt: skip
    return LLMError(MALFORMED_CHUNK_MESSAGE)
