"""Chat model providers, chosen by ``settings.CHAT_PROVIDER`` at call time.

- ``openai``: any OpenAI-compatible endpoint through the official SDK (``AsyncOpenAI``), streamed,
  with ``settings.LLM_TIMEOUT_SECONDS``; every failure becomes ``LLMError`` (-> 502
  ``upstream_error``). Closing the generator closes the upstream HTTP response.
- ``extractive``: offline; answers by quoting the passages that best match the question, with
  citation marks, streamed in small pieces. It says that it is extractive.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from conversations.prompting import count_tokens


@dataclass
class LLMChunk:
    text: str = ""
    finish_reason: str | None = None  # set on the last chunk only
    usage: dict[str, int] | None = None


class LLMError(Exception):
    """The model provider failed; the message is a sentence for the API client."""

    type = "upstream_error"
    status_code = 502


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
    ) -> AsyncIterator[LLMChunk]: ...


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


# --------------------------------------------------------------------------- OpenAI-compatible
_clients: dict[tuple[Any, ...], Any] = {}


def _client() -> Any:
    import openai

    loop = asyncio.get_running_loop()
    key = (
        settings.OPENAI_BASE_URL,
        settings.OPENAI_API_KEY,
        settings.LLM_TIMEOUT_SECONDS,
        id(loop),
    )
    client = _clients.get(key)
    if client is None:
        if len(_clients) > 32:  # loops come and go in tests and management commands
            _clients.clear()
        client = openai.AsyncOpenAI(
            api_key=settings.OPENAI_API_KEY or "none",
            base_url=settings.OPENAI_BASE_URL,
            timeout=settings.LLM_TIMEOUT_SECONDS,
            max_retries=0,  # a chat user waits: fail fast and say so
        )
        _clients[key] = client
    return client


def _describe(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "The model provider did not answer in time; try again shortly."
    if isinstance(exc, openai.RateLimitError):
        return "The model provider is rate limiting this service (429); try again shortly."
    if isinstance(exc, openai.APIStatusError):
        return f"The model provider answered with HTTP {exc.status_code}; try again shortly."
    if isinstance(exc, openai.APIConnectionError):
        return "The model provider could not be reached; try again shortly."
    return "The model provider failed while answering; try again shortly."


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
    ) -> AsyncIterator[LLMChunk]:
        import httpx
        import openai
        from openai import AsyncStream
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        body = {
            "model": model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        try:
            # The client's own POST (auth, timeouts, errors, SSE decoding) with a body that is
            # already plain JSON: `create()` would walk every message through the SDK's param
            # transformer first, the largest CPU cost of starting a stream here (~2 ms).
            upstream = await _client().post(
                "/chat/completions",
                body=body,
                cast_to=ChatCompletion,
                stream=True,
                stream_cls=AsyncStream[ChatCompletionChunk],
            )
        except openai.APIError as exc:
            raise LLMError(_describe(exc)) from exc
        finish: str | None = None
        usage: dict[str, int] | None = None
        completion = 0
        try:
            async for chunk in upstream:
                if chunk.usage is not None:
                    usage = _usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    if choice.delta is not None and choice.delta.content:
                        completion += 1
                        yield LLMChunk(text=choice.delta.content)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except (openai.APIError, httpx.HTTPError) as exc:
            raise LLMError(_describe(exc)) from exc
        finally:
            await upstream.close()
        if finish is None:
            raise LLMError("The model provider's stream ended before the answer was complete.")
        if usage is None:
            prompt = sum(count_tokens(m["content"]) for m in messages)
            usage = _usage(prompt, completion)
        yield LLMChunk(finish_reason="length" if finish == "length" else "stop", usage=usage)


# --------------------------------------------------------------------------- extractive (offline)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\[(])|\n{2,}")
_TOKEN = re.compile(r"[a-z0-9_]+")
_STOP_WORDS = (
    "a an and are as at be by can do does for from how i if in is it my of on or so that the "
    "this to was what when where which who why will with you your me we use using"
)
_STOP = frozenset(_STOP_WORDS.split(" "))
PIECE_WORDS = 3


def _terms(text: str) -> set[str]:
    return {w[:6] for w in _TOKEN.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _sentences(text: str) -> list[str]:
    """Prose sentences of a chunk: no code blocks, headings or the "path > heading" prefix."""
    kept: list[str] = []
    in_code = False
    for i, line in enumerate(text.splitlines()):
        s = line.strip()
        if s.startswith("```"):
            in_code = not in_code
            continue
        if in_code or s.startswith("#") or (i == 0 and " > " in s):
            continue
        kept.append(s.lstrip(">").strip())
    out = []
    for part in _SENTENCE.split("\n".join(kept)):
        part = " ".join(part.split())
        if 20 <= len(part) <= 400:
            out.append(part)
    return out


def extractive_answer(question: str, sources: Sequence[Any], *, max_sentences: int = 3) -> str:
    if not sources:
        return (
            "I could not find anything about that in the knowledge base "
            "(extractive mode: I only quote the documents)."
        )
    wanted = _terms(question)
    scored: list[tuple[float, int, int, str]] = []
    for n, chunk in enumerate(sources, 1):
        for pos, sentence in enumerate(_sentences(chunk.text)):
            overlap = len(wanted & _terms(sentence))
            # Earlier (better-ranked) sources and earlier sentences win ties.
            scored.append((overlap - 0.01 * n - 0.001 * pos, n, pos, sentence))
    scored.sort(reverse=True)
    picked = sorted(scored[:max_sentences], key=lambda s: (s[1], s[2]))
    if not picked:
        first = sources[0].text.strip().splitlines()
        return f"From the documentation (extractive answer): {' '.join(first)[:400]} [1]"
    body = " ".join(f"{s[3]} [{s[1]}]" for s in picked)
    return f"From the documentation (an extractive answer quoting the best passages): {body}"


class ExtractiveProvider:
    name = "extractive"

    async def stream(
        self,
        *,
        messages: list[dict[str, str]],
        model: str,
        temperature: float,
        max_tokens: int,
        sources: Sequence[Any],
        question: str,
    ) -> AsyncIterator[LLMChunk]:
        answer = extractive_answer(question, sources)
        words = re.findall(r"\s*\S+", answer)
        for i in range(0, len(words), PIECE_WORDS):
            yield LLMChunk(text="".join(words[i : i + PIECE_WORDS]))
            await asyncio.sleep(0)  # let the transport send each piece as it comes
        prompt = sum(count_tokens(m["content"]) for m in messages)
        yield LLMChunk(finish_reason="stop", usage=_usage(prompt, count_tokens(answer)))


def get_provider() -> Provider:
    if settings.CHAT_PROVIDER == "openai":
        return OpenAIProvider()
    return ExtractiveProvider()


def model_for(bot: Any) -> str:
    if settings.CHAT_PROVIDER == "extractive":
        return "extractive"
    return bot.model or getattr(bot.tenant, "default_model", "") or settings.CHAT_MODEL
