"""Chat model providers, chosen by ``settings.CHAT_PROVIDER`` at call time.

- ``openai``: any OpenAI-compatible endpoint (``/chat/completions``, streamed) over the lean
  asyncio client of ``conversations/upstream_http.py`` (httpx when a proxy is configured or
  ``LLM_HTTP_CLIENT=httpx``) with ``settings.LLM_TIMEOUT_SECONDS``; every failure becomes
  ``LLMError`` (-> 502 ``upstream_error``). Closing the generator closes the upstream HTTP
  response.
- ``extractive`` (``conversations/extractive.py``): offline; answers by quoting the passages that
  best match the question, with citation marks, streamed in small pieces. It says that it is
  extractive.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

# LLMError, the messages and _usage live in llm_errors (llm_stream needs them too) and are
# imported from here across the project, tests included.
from conversations.llm_errors import (
    ERROR_BODY_LOGGED,
    FAILED_MESSAGE,
    INCOMPLETE_MESSAGE,
    TIMEOUT_MESSAGE,
    UNREACHABLE_MESSAGE,
    LLMError,
    _usage,
    provider_url,
    retry_after_seconds,
)
from conversations.llm_errors import MALFORMED_CHUNK_MESSAGE as MALFORMED_CHUNK_MESSAGE
from conversations.llm_stream import _choices, _chunk_usage, _decode_chunk, _sse_data
from conversations.prompting import count_tokens

log = logging.getLogger("chatbot.llm")


@dataclass
class LLMChunk:
    text: str = ""
    finish_reason: str | None = None  # set on the last chunk only
    usage: dict[str, int] | None = None


class Provider(Protocol):
    name: str

    def stream(
        self,
        *,
        messages: list[dict[str, str]],
        model: str,
        temperature: float,
        max_tokens: int,
        sources: Sequence[Any],
        question: str,
        sampling: Mapping[str, Any] | None = None,  # the OpenAI route's top_p, stop, seed...
    ) -> AsyncIterator[LLMChunk]: ...


# --------------------------------------------------------------------------- OpenAI-compatible
# The stream is read with the lean asyncio client of ``conversations/upstream_http.py`` (httpx,
# the HTTP library under the openai SDK, behind a proxy) and decoded by ``llm_stream.py``, not
# with the SDK's stream objects: the SDK builds a pydantic ChatCompletionChunk per token (~0.35
# ms of CPU each, measured: ~2 ms for a 5-token answer, most of a chat start's relay cost) and
# its request pipeline added ~2 ms more. A handful of dict lookups per line does the same job.
# For httpx: keep-alive connection pools per event loop, so streams reuse connections; several
# of them per loop (``_Pools``), because httpcore scans every connection of a pool on each
# request and each response close: with ~1,000 open streams in one pool that scan took more
# CPU than the chats themselves and first events queued for seconds (bench/README.md,
# "Capacity"). Pools are filled in order, so a quiet server uses only the first (and reuses its
# connections) and a busy one spreads its streams over pools of at most ``SHARD_FILL`` each.
POOL_SHARDS = 32
SHARD_FILL = 64

# The upstream's finish_reason as API.md's (stop | length | refused | cancelled): a provider's
# content filter withholding or cutting the answer is ``refused`` (it was reported as ``stop``,
# a complete answer); the OpenAI-compatible route maps ``refused`` back to ``content_filter``.
FINISH_REASONS = {"stop": "stop", "length": "length", "content_filter": "refused"}


class _Pools:
    """One event loop's httpx clients and how many streams each is serving (used only from
    that loop's thread, so no lock)."""

    def __init__(self) -> None:
        self.clients: list[Any] = [None] * POOL_SHARDS
        self.active = [0] * POOL_SHARDS

    def acquire(self) -> tuple[int, Any]:
        free = [i for i, count in enumerate(self.active) if count < SHARD_FILL]
        shard = free[0] if free else min(range(POOL_SHARDS), key=self.active.__getitem__)
        if self.clients[shard] is None:  # made on first use
            self.clients[shard] = _new_client()
        self.active[shard] += 1
        return shard, self.clients[shard]

    def release(self, shard: int) -> None:
        self.active[shard] -= 1

    def close_dead(self) -> None:
        """Its loop has closed: close its clients' connections."""
        from chatbot_project.loop_resources import close_httpx_client

        for client in self.clients:
            if client is not None:
                close_httpx_client(client)


def _loop_pools() -> _Pools:
    """The running loop's pools (closed with the loop: ``chatbot_project.loop_resources``)."""
    from chatbot_project.loop_resources import for_loop

    key = (_Pools, settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY, settings.LLM_TIMEOUT_SECONDS)
    return for_loop(key, _Pools, _Pools.close_dead)


def _new_client() -> Any:
    import httpx

    return httpx.AsyncClient(
        base_url=settings.OPENAI_BASE_URL.rstrip("/") + "/",
        headers={
            "Authorization": f"Bearer {settings.OPENAI_API_KEY or 'none'}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        },
        # Between bytes as well as to connect: a silent upstream fails in this time.
        timeout=httpx.Timeout(settings.LLM_TIMEOUT_SECONDS),
        # Every open chat holds one upstream connection; idle ones are kept for reuse.
        limits=httpx.Limits(
            max_connections=None, max_keepalive_connections=SHARD_FILL, keepalive_expiry=30
        ),
        verify=_ssl_context(),  # one per process: loading the CA bundle takes ~20 ms
    )


@functools.lru_cache(maxsize=1)
def _ssl_context() -> Any:
    """httpx's default context (certifi, SSL_CERT_FILE/SSL_CERT_DIR honoured), made once."""
    import httpx

    return httpx.create_ssl_context()


def status_message(status: int, retry_after: int | None = None) -> str:
    """The client's sentence for an upstream HTTP error: "try again" only where it can help
    (a refused credential, model or request stays refused). ``retry_after``: the wait the
    provider asked for (its ``Retry-After``)."""
    if status == 429:
        wait = f": it asks this service to wait {retry_after} s" if retry_after else ""
        return f"The model provider is rate limiting this service (429); try again shortly{wait}."
    if status in (401, 403):
        return (
            f"The model provider refused this service's credentials (HTTP {status}); retrying "
            "will not help until the operator fixes them (the error has been logged)."
        )
    if status == 404:
        return (
            "The model provider does not know the model this bot asks for (HTTP 404); check "
            "the bot's `model` (the error has been logged)."
        )
    if not retryable_status(status):
        return (
            f"The model provider refused the request (HTTP {status}); retrying will not help "
            "(the error has been logged)."
        )
    return f"The model provider answered with HTTP {status}; try again shortly."


def retryable_status(status: int) -> bool:
    """Whether asking the provider again can help after this HTTP status (not after a refused
    credential, model or request: the 4xx other than 408, 409, 425 and 429)."""
    return not (400 <= status < 500 and status not in (408, 409, 425, 429))


async def _log_status_error(response: Any, model: str) -> None:
    """Log an upstream error answer with the start of its body (the provider's explanation:
    a bad key, an unknown model, a prompt too long), which the client is not shown."""
    got = b""
    with contextlib.suppress(Exception):
        async with contextlib.aclosing(response.aiter_bytes()) as blocks:
            async for block in blocks:
                got += block
                if len(got) >= ERROR_BODY_LOGGED:
                    break
    log.warning(
        "model provider %s answered HTTP %s for model %r: %s", provider_url(),
        response.status_code, model, got[:ERROR_BODY_LOGGED].decode(errors="replace"),
    )  # fmt: skip


def _http_client() -> str:
    """``lean`` (conversations/upstream_http.py) unless ``LLM_HTTP_CLIENT=httpx`` or a proxy is
    configured for the upstream (the lean client does not speak to proxies)."""
    from conversations import upstream_http

    if getattr(settings, "LLM_HTTP_CLIENT", "auto") == "httpx":
        return "httpx"
    return "httpx" if upstream_http.uses_proxy(settings.OPENAI_BASE_URL) else "lean"


def _no_release() -> None:
    pass


async def _send(body: bytes) -> tuple[Any, Any]:
    """POST ``body`` to the upstream's chat/completions, streamed: (response, release), where
    the response has ``status_code``, ``aiter_bytes()`` and ``aclose()``, and ``release()``
    must be called after ``aclose()``. Failures are ``LLMError``."""
    import httpx

    from conversations import upstream_http

    if _http_client() == "lean":
        pool = upstream_http.loop_pool(
            settings.OPENAI_BASE_URL, float(settings.LLM_TIMEOUT_SECONDS), _ssl_context()
        )
        try:
            response = await pool.post("chat/completions", body, _lean_headers())
        except upstream_http.UpstreamHTTPError as exc:
            raise _http_error(exc) from exc
        return response, _no_release
    pools = _loop_pools()
    shard, client = pools.acquire()
    try:
        request = client.build_request("POST", "chat/completions", content=body)
        response = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        pools.release(shard)
        raise _http_error(exc) from exc
    except BaseException:
        pools.release(shard)
        raise
    return response, functools.partial(pools.release, shard)


def _lean_headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {settings.OPENAI_API_KEY or 'none'}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
        "User-Agent": "chatbot-platform",
    }


def _http_error(exc: Exception) -> LLMError:
    import httpx

    log.warning("model provider %s failed: %r", provider_url(), exc)
    from conversations.upstream_http import UpstreamHTTPError

    if isinstance(exc, UpstreamHTTPError):
        if exc.kind == "timeout":
            return LLMError(TIMEOUT_MESSAGE)
        if exc.kind == "connect":
            return LLMError(UNREACHABLE_MESSAGE)
        return LLMError(INCOMPLETE_MESSAGE)
    if isinstance(exc, httpx.TimeoutException):
        return LLMError(TIMEOUT_MESSAGE)
    if isinstance(exc, httpx.ConnectError):
        return LLMError(UNREACHABLE_MESSAGE)
    if isinstance(exc, httpx.RemoteProtocolError):  # the connection dropped mid-answer
        return LLMError(INCOMPLETE_MESSAGE)
    return LLMError(FAILED_MESSAGE)


class OpenAIProvider:
    name = "openai"

    async def stream(
        self,
        *,
        messages: list[dict[str, str]],
        model: str,
        temperature: float,
        max_tokens: int,
        sources: Sequence[Any],
        question: str,
        sampling: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[LLMChunk]:
        """``sampling``: OpenAI options a client of the OpenAI-compatible route gave (top_p,
        the penalties, stop, seed, logit_bias: ``openai_params.PASSED``), sent as given."""
        import httpx

        from conversations.upstream_http import UpstreamHTTPError

        body = {
            "model": model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            **(sampling or {}),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        response, release = await _send(json.dumps(body, separators=(",", ":")).encode())
        finish: str | None = None
        usage: dict[str, int] | None = None
        completion = 0
        try:
            if response.status_code != 200:
                await _log_status_error(response, model)
                status, wait = response.status_code, retry_after_seconds(response.headers)
                raise LLMError(  # the wait and whether to retry, passed on to the client
                    status_message(status, wait), retry_after=wait,
                    retryable=retryable_status(status),
                )  # fmt: skip
            async with contextlib.aclosing(_sse_data(response)) as events:
                async for data in events:
                    chunk = _decode_chunk(data)
                    if chunk is None:
                        continue
                    if chunk.get("usage"):
                        usage = _chunk_usage(chunk)
                    for content, reason in _choices(chunk):
                        if content:
                            completion += 1
                            yield LLMChunk(text=content)
                        if reason:
                            finish = reason
        except (httpx.HTTPError, UpstreamHTTPError) as exc:
            raise _http_error(exc) from exc
        finally:
            try:
                await response.aclose()  # an unfinished response closes its connection
            finally:
                release()
        if finish is None:
            raise LLMError(INCOMPLETE_MESSAGE)
        if usage is None:
            prompt = sum(count_tokens(m["content"]) for m in messages)
            usage = _usage(prompt, completion)
        yield LLMChunk(finish_reason=FINISH_REASONS.get(finish, "stop"), usage=usage)


def get_provider() -> Provider:
    if settings.CHAT_PROVIDER == "openai":
        return OpenAIProvider()
    from conversations.extractive import ExtractiveProvider  # it imports this module

    return ExtractiveProvider()


def model_for(bot: Any) -> str:
    if settings.CHAT_PROVIDER == "extractive":
        return "extractive"
    return bot.model or getattr(bot.tenant, "default_model", "") or settings.CHAT_MODEL
