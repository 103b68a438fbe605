"""WebSocket chat at ``/ws/chat/``: the same events as SSE, as JSON objects with a ``type``.

Authenticate with ``?key=<api key>`` or the subprotocol ``bearer.<key>`` (accepted back so
browsers complete the handshake). Send ``{"type": "chat", ...same fields as POST /v1/chat}``;
``{"type": "cancel"}`` stops the running chat (its partial answer is saved as ``cancelled`` and an
``end`` event says so). Chats on one socket run one after another.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import aclosing
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from chatbot_project.errors import APIError
from conversations.chat import ChatInput, prepare_chat, run_chat
from conversations.dbthreads import db_sync
from datasets import query_embeddings

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
BEARER = "bearer."


def _resolve(raw: str, origin: str) -> Any:
    from tenants.auth import authenticate_key

    return authenticate_key(raw, origin=origin)


def _still_valid(context: Any) -> bool:
    try:
        from tenants.auth import context_still_valid
    except ImportError:  # pragma: no cover - the access app ships it
        return True
    return context_still_valid(context)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    context: Any = None
    task: asyncio.Task | None = None
    cancel_requested: bool = False

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        raw = (query.get("key") or [""])[0]
        chosen = None
        for proto in self.scope.get("subprotocols") or []:
            if proto.lower().startswith(BEARER):
                raw, chosen = proto[len(BEARER) :], proto
                break
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope["headers"]
        }
        if not raw:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        try:
            self.context = await db_sync(_resolve)(raw, headers.get("origin", ""))
        except APIError as exc:
            await self.close(code=CLOSE_FORBIDDEN if exc.status_code == 403 else CLOSE_UNAUTHORIZED)
            return
        if not self.context.has("chat"):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept(subprotocol=chosen)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "cancel":
            if self.task is not None and not self.task.done():
                self.cancel_requested = True
                self.task.cancel()
            return
        if kind != "chat":
            await self._error(
                "invalid_request", 'Send {"type": "chat", ...} or {"type": "cancel"}.'
            )
            return
        # Chats on one socket run one after another: a new one waits for the previous one.
        previous = self.task if self.task is not None and not self.task.done() else None
        self.cancel_requested = False
        self.task = asyncio.ensure_future(self._chat(content, after=previous))

    async def _error(self, type_: str, message: str) -> None:
        await self.send_json({"type": "error", "error": {"type": type_, "message": message}})

    async def _chat(self, content: dict[str, Any], after: asyncio.Task | None = None) -> None:
        if after is not None:
            with contextlib.suppress(BaseException):
                await asyncio.shield(after)
        if not await db_sync(_still_valid)(self.context):
            # A socket outlives its key: each chat re-checks it (revoked, expired, suspended).
            await self._error(
                "authentication_failed",
                "The API key is no longer valid (revoked, expired or its tenant suspended).",
            )
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        try:
            data = ChatInput.from_payload(content)
            await self._rate_limit()
            # Started here, the embedding computes while the bot is read.
            embedding = await query_embeddings.aprefetch(data.message.strip())
            prep = await db_sync(prepare_chat)(self.context, data, embedding=embedding)
        except APIError as exc:
            await self._error(exc.type, str(exc.detail))
            return
        try:
            async with aclosing(run_chat(prep)) as events:
                async for event, payload in events:
                    await self.send_json({"type": event, **payload})
        except asyncio.CancelledError:
            if self.cancel_requested:  # the client asked: tell it the chat stopped
                with contextlib.suppress(Exception):
                    await self.send_json(
                        {
                            "type": "end",
                            "finish_reason": "cancelled",
                            "usage": prep.usage or {},
                            "latency_ms": prep.latency_ms,
                            "refused": False,
                            "message_id": str(prep.message_id),
                        }
                    )
                return
            raise

    async def _rate_limit(self) -> None:
        try:
            from apikeys.ratelimit import ahit, rate_limited_error
        except ImportError:  # pragma: no cover
            return
        decision = await ahit(self.context, bucket="api")
        if not decision.allowed:
            raise rate_limited_error(decision)

    async def disconnect(self, code: int) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
