"""OpenAI-compatible routes (``/v1/openai``) so any OpenAI client can talk to a bot.

``model`` is the bot's slug; the last user message is the question and the earlier user/assistant
messages are the history (the client owns it, as with OpenAI). Answers carry ``citations`` as an
extra top-level field (on the first chunk when streaming). A stream carries ``usage`` only when
asked, as OpenAI's does (``stream_options.include_usage``: one last chunk without choices). Each
request is recorded as a new conversation of the bot, like any other chat.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bots.selectors import bot_list
from chatbot_project.errors import APIError
from chatbot_project.lean import lean_async
from conversations.chat import (
    ChatInput,
    PreparedChat,
    collect,
    run_chat,
)
from conversations.chat_input import MAX_USER_CHARS
from conversations.dbthreads import db_sync
from conversations.openai_params import ParamError, sampling
from conversations.slots import release_stream_slot, released_after
from conversations.streaming import (
    _with_rate_headers,
    authenticate_and_embed,
    authenticate_request,
    error_json,
    parse_json,
    request_visitor,
    start_chat,
    streaming_response,
)

FINISH = {"stop": "stop", "length": "length", "refused": "content_filter", "error": "stop"}
# OpenAI's roles; only user and assistant turns are read (the bot has its own system prompt)
ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def _content(value: Any) -> str:
    """A message's text: a string, or the ``text`` of its ``text`` parts (other parts, such as
    images, carry none); anything else is a 400."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, list):  # [{"type": "text", "text": ...}, ...]
        texts = []
        for part in value:
            if not isinstance(part, dict):
                raise APIError("A message's `content` parts must be objects with a `type`.")
            if part.get("type") == "text":
                if not isinstance(part.get("text"), str):
                    raise APIError("A `text` content part needs `text` as a string.")
                texts.append(part["text"])
        return "".join(texts)
    raise APIError("A message's `content` must be a string or a list of content parts.")


def _refuse_what_a_bot_cannot_honour(payload: dict[str, Any]) -> None:
    """Parameters whose request a bot cannot meet are a 400 (OpenAI's own answer to a value it
    does not take), not dropped: a client asking for two choices, a tool call, JSON output,
    token log probabilities or audio would otherwise index a choice that is not there, parse
    prose as JSON or read a null ``logprobs`` / ``audio``. The sampling options (temperature,
    top_p, stop, seed...) are checked by ``openai_params.sampling``."""
    stream = payload.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise ParamError("stream", "`stream` must be true or false.")
    n = payload.get("n")
    if n is not None and (type(n) is not int or n != 1):
        raise ParamError("n", "`n` must be 1: a bot gives one answer per request.")
    if payload.get("tool_choice") not in (None, "auto", "none"):
        raise ParamError(
            "tool_choice",
            '`tool_choice` can only be "auto" or "none": a bot answers in text and calls no tools.',
        )
    fmt = payload.get("response_format")
    if fmt is not None and (not isinstance(fmt, dict) or fmt.get("type") != "text"):
        raise ParamError(
            "response_format",
            '`response_format` can only be {"type": "text"}: a bot answers in text with '
            "citations, not in JSON.",
        )
    if payload.get("logprobs") not in (None, False) or payload.get("top_logprobs") not in (None, 0):
        raise ParamError(
            "logprobs" if payload.get("logprobs") not in (None, False) else "top_logprobs",
            "`logprobs` and `top_logprobs` are not available: a bot returns its answer's text, "
            "not the model's token probabilities.",
        )
    if payload.get("modalities") not in (None, ["text"]):
        raise ParamError(
            "modalities", '`modalities` can only be ["text"]: a bot answers in text, not audio.'
        )


def _include_usage(payload: dict[str, Any]) -> bool:
    """``stream_options.include_usage`` (OpenAI's: the usage in one last chunk of the stream).
    ``stream_options`` is only taken with ``"stream": true``, as OpenAI answers it; null is
    absent, as elsewhere on this route."""
    options = payload.get("stream_options")
    if options is None:
        return False
    if payload.get("stream") is not True:
        raise ParamError(
            "stream_options", "`stream_options` is only allowed when `stream` is true."
        )
    if not isinstance(options, dict):
        raise ParamError(
            "stream_options", '`stream_options` must be an object, such as {"include_usage": true}.'
        )
    include = options.get("include_usage")
    if include is not None and not isinstance(include, bool):
        raise ParamError(
            "stream_options.include_usage", "`stream_options.include_usage` must be true or false."
        )
    return include is True


def chat_input(payload: Any) -> tuple[ChatInput, bool, bool]:
    """The chat, whether it streams, and whether the stream ends with a usage chunk."""
    if not isinstance(payload, dict):
        raise APIError("Send a JSON object with `model` and `messages`.")
    model = payload.get("model")
    messages = payload.get("messages")
    if not isinstance(model, str) or not model:
        raise ParamError(
            "model", "`model` is required: the bot's slug (see GET /v1/openai/models)."
        )
    if not isinstance(messages, list) or not messages:
        raise ParamError("messages", "`messages` must be a non-empty list of chat messages.")
    for i, m in enumerate(messages):  # skipped, a trailing one left an earlier question
        if not isinstance(m, dict):
            raise ParamError(
                f"messages[{i}]", f"`messages[{i}]` must be an object with a `role` and `content`."
            )
        if not isinstance(m.get("role"), str) or m["role"] not in ROLES:  # (skipped, too)
            raise ParamError(
                f"messages[{i}].role", f"`messages[{i}].role` must be one of: {', '.join(ROLES)}."
            )
    turns = [
        {"role": m.get("role"), "content": _content(m.get("content"))}
        for m in messages
        if m.get("role") in ("user", "assistant")
    ]
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        last = [m for m in messages if m["role"] in ("user", "assistant")][-1:]
        if last and last[0]["role"] == "user" and isinstance(last[0].get("content"), list):
            raise APIError(  # (it said "non-empty" of a question sent as an image)
                "The question (the last `user` message) has no text: a bot reads `text` "
                "content parts only (images, audio and files are skipped)."
            )
        raise APIError("The last message must be a non-empty `user` message: the question.")
    user = payload.get("user")
    user = "" if user is None else user  # (a falsy [] or 0 was taken as no user)
    if not isinstance(user, str) or len(user) > MAX_USER_CHARS:
        raise ParamError("user", f"`user` must be a string of at most {MAX_USER_CHARS} characters.")
    _refuse_what_a_bot_cannot_honour(payload)
    scope = payload.get("scope")
    if scope is not None and not isinstance(scope, str):  # (dropped, it ran without the scope)
        raise ParamError("scope", "`scope` must be a string: the scope's slug or id.")
    options = sampling(payload)
    data = ChatInput(
        bot=model,
        message=turns[-1]["content"],
        user=user,
        scope=scope,
        history=[t for t in turns[:-1] if t["content"]],
        max_tokens=options.max_tokens,
        temperature=options.temperature,
        sampling=options.passed,
    )
    return data, payload.get("stream") is True, _include_usage(payload)


def _chunk(prep: PreparedChat, created: int, delta: dict[str, Any] | None, **extra: Any) -> bytes:
    """One ``chat.completion.chunk``; ``delta`` None: the usage chunk (no choices)."""
    finish = extra.pop("finish", None)
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body = {
        "id": f"chatcmpl-{prep.message_id.hex}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": prep.bot.slug,
        "choices": choices,
        **extra,
    }
    return f"data: {json.dumps(body, separators=(',', ':'))}\n\n".encode()


async def _openai_stream(prep: PreparedChat, include_usage: bool = False) -> AsyncIterator[bytes]:
    """OpenAI's chunks. ``include_usage`` (``stream_options``): as OpenAI sends it, every chunk
    has ``"usage": null`` and one more chunk after the finish has no choices and the usage;
    without it no chunk carries usage."""
    prep.streaming = True  # from here on released_after gives the slot back
    created = int(time.time())
    null = {"usage": None} if include_usage else {}
    # Pings as SSE comments while the model is silent (as /v1/chat sends them): a proxy's idle
    # timeout must not cut a slow first token; SSE clients, the openai SDK's included, skip them.
    events = run_chat(prep, ping_seconds=settings.SSE_PING_SECONDS)
    async with contextlib.aclosing(events):
        async for event, data in events:
            if event == "ping":
                yield b": ping\n\n"
            elif event == "citations":
                yield _chunk(
                    prep, created, {"role": "assistant", "content": ""}, **null,
                    citations=data["citations"], conversation_id=str(prep.conversation.id),
                )  # fmt: skip
            elif event == "delta":
                yield _chunk(prep, created, {"content": data["text"]}, **null)
            elif event == "end":
                finish = FINISH.get(data["finish_reason"], "stop")
                yield _chunk(prep, created, {}, finish=finish, **null)
                if include_usage:
                    yield _chunk(prep, created, None, usage=data["usage"])
            elif event == "error":
                body = {"error": {**data["error"], "code": data["error"]["type"]}}
                yield f"data: {json.dumps(body)}\n\n".encode()
    yield b"data: [DONE]\n\n"


@lean_async
@csrf_exempt
async def completions_view(request: HttpRequest) -> HttpResponse:
    started = time.perf_counter()
    if request.method != "POST":
        return _error(
            APIError("Use POST for chat completions.", status_code=405, headers={"Allow": "POST"})
        )
    try:
        try:  # parsed first for the question's cache lookup; errors count after authentication
            parsed, bad = chat_input(parse_json(request)), None
        except APIError as exc:
            parsed, bad = None, exc
        question = parsed[0].message.strip() if parsed is not None else None
        context, embedding = await authenticate_and_embed(request, question)
        if bad is not None:
            raise bad
        assert parsed is not None
        data, stream, include_usage = parsed
        visitor = request_visitor(request, context)
        # (start_chat gives the slot back on its errors)
        prep, slot = await start_chat(context, data, embedding, started, visitor=visitor)
    except APIError as exc:
        return _with_rate_headers(request, _error(exc))
    if stream:
        body = released_after(_openai_stream(prep, include_usage), context, slot)
        return streaming_response(body, request, prep=prep, slot=slot)
    try:
        result = await collect(prep)
    except APIError as exc:
        return _with_rate_headers(request, _error(exc))
    finally:
        await release_stream_slot(context, slot)
    body = {
        "id": f"chatcmpl-{prep.message_id.hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": prep.bot.slug,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result["answer"]},
                "finish_reason": FINISH.get(result["finish_reason"], "stop"),
            }
        ],
        "usage": result["usage"],
        "citations": result["citations"],
        "conversation_id": result["conversation_id"],
    }
    return _with_rate_headers(request, JsonResponse(body))


def _error(exc: APIError) -> HttpResponse:
    """API.md's error body plus OpenAI's ``code`` (the type) and ``param`` (the parameter a 400
    names, ``openai_params.ParamError``; else null), which OpenAI clients read (the SDK's
    ``e.code`` and ``e.param``; the stream's error event carries ``code`` too)."""
    return error_json(exc, code=exc.type, param=getattr(exc, "param", None))


def _models(context: Any, slug: str | None = None) -> list[dict[str, Any]]:
    """The bots this credential may chat with, active ones: the tenant's, narrowed for a key
    limited to certain bots by the rule /v1/bots applies (``bots.selectors.bot_list``; a key
    limited to scopes chats with any bot under one of its scopes, so it lists them all)."""
    qs = bot_list(tenant=context.tenant, allowed_ids=context.allowed_bot_ids)
    qs = qs.prefetch_related(None).filter(is_active=True).order_by("slug")  # (no datasets read)
    if slug is not None:
        qs = qs.filter(slug=slug)
    return [
        {
            "id": bot.slug,
            "object": "model",
            "created": int(bot.created_at.timestamp()),
            "owned_by": context.tenant.slug,
            "name": bot.name,
        }
        for bot in qs
    ]


@lean_async
async def models_view(request: HttpRequest, model: str | None = None) -> HttpResponse:
    """GET /v1/openai/models (the list) and /v1/openai/models/{model} (one, as the SDK's
    ``client.models.retrieve`` asks for it; 404 in OpenAI's error shape when unknown)."""
    if request.method not in ("GET", "HEAD"):  # (HEAD as on every other GET route)
        return _error(
            APIError("Use GET for the model list.", status_code=405, headers={"Allow": "GET, HEAD"})
        )
    try:
        context = await authenticate_request(request)
        data = await db_sync(_models)(context, model)
        if model is not None and not data:
            raise APIError(
                "No such model (bot), or it is not visible to this credential.",
                type="not_found", status_code=404,
            )  # fmt: skip
    except APIError as exc:
        return _with_rate_headers(request, _error(exc))
    body = data[0] if model is not None else {"object": "list", "data": data}
    return _with_rate_headers(request, JsonResponse(body))
