"""WebSocket chat at ``/ws/chat/``: the same events as SSE, as JSON objects with a ``type``.

Authenticate with ``?key=<api key>`` or the subprotocol ``bearer.<key>`` (accepted back so
browsers complete the handshake). Send ``{"type": "chat", ...same fields as POST /v1/chat}``;
``{"type": "ping"}`` is answered ``{"type": "pong"}``;
``{"type": "cancel"}`` stops the running chat (its partial answer is saved as ``cancelled`` and an
``end`` event says so). Chats on one socket run one after another; a cancel stops the oldest one
not yet ended, leaving those queued behind it; one naming the ``message_id`` of a chat's ``start``
stops that chat only (nothing once it has ended). A cancel that arrives before the answer streams
(while the key, rate limit and retrieval are checked) lets that preparation finish, then saves
the turn as ``cancelled`` without calling the model: ``start`` and ``end`` still go out.
At most ``WS_MAX_CHATS_PER_SOCKET`` chats run or wait on one socket; a chat beyond that gets an
``error`` event (``rate_limited``) at once and is not run. Sockets open at once are capped per
key and per browser visitor (``socket_slots``): one more is refused (``rate_limited``, 4429).
When the socket closes, the chat that streams is cancelled (its partial answer saved) and every
chat still queued or being prepared is prepared to the end and stored as ``cancelled`` without
calling the model, as a cancel would (no question sent is lost; each is still checked: key,
rate limit, bot, conversation). Nothing more is sent on the closed socket.
An ``error`` event for a chat that never started (refused by that cap, the key no longer valid,
the chat's own 400/404/409/429..., or a failure before it streamed) carries the error's
``details`` as the HTTP routes do, and ``details.conversation_id`` when the frame named one
(``socket_turns.conversation_echo``): a chat frame has no id of its own, and several chats may
be sent on one socket before the first ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from contextlib import aclosing
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from chatbot_project import jsonbody
from chatbot_project.errors import APIError
from chatbot_project.fastlane import internal_error
from conversations import chat_writes
from conversations.chat import ChatInput, PreparedChat, run_chat
from conversations.dbthreads import db_sync
from conversations.slots import visitor_of
from conversations.socket_slots import SocketSlot, close_socket, open_socket
from conversations.socket_turns import Turn, cancelled_end, conversation_echo
from conversations.streaming import finish_unrun, start_chat
from datasets import query_embeddings

CLOSE_UNAUTHORIZED = 4401
_INVALID_KEY = "The API key is no longer valid (revoked, expired or its tenant suspended)."
_NO_KEY = "Authentication required: send the API key as ?key=<key> or the subprotocol bearer.<key>."
_NO_CHAT = "This credential lacks the `chat` permission this route needs."
CLOSE_FORBIDDEN = 4403
# 4000 + the HTTP status, as the two above (daphne refuses an application's 1011 or 1013)
CLOSE_INTERNAL_ERROR, CLOSE_UNAVAILABLE = 4500, 4503
CLOSE_RATE_LIMITED = 4429  # too many sockets open (socket_slots)
_CLOSE_CODES = {403: CLOSE_FORBIDDEN, 429: CLOSE_RATE_LIMITED, 503: CLOSE_UNAVAILABLE}
BEARER = "bearer."

log = logging.getLogger("chatbot.websocket")


def _resolve(raw: str, headers: dict[str, str]) -> Any:
    """The key's context; an ``X-Tenant`` naming another tenant is refused as on HTTP."""
    from tenants.auth import authenticate_key

    origin, tenant = headers.get("origin", ""), headers.get("x-tenant", "").strip()
    return authenticate_key(raw, origin=origin, tenant=tenant)


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _still_valid(context: Any) -> bool:
    try:
        from tenants.auth import context_still_valid
    except ImportError:  # pragma: no cover - the access app ships it
        return True
    return context_still_valid(context)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    context: Any = None
    closed = False  # the client went away: events are dropped, chats still stored
    closing = False  # we sent the close frame
    told_invalid = False  # an error event said the credential no longer works
    _guard: asyncio.Task | None = None  # _close_when_revoked
    socket_slot: SocketSlot | None = None  # its place among the open sockets (socket_slots)
    # Nothing is ever sent to a chat socket through the channel layer, so it does not listen
    # on one: subscribed, every socket of the process waited on one blocking Redis read loop,
    # and a Redis blip dropped them all without a close frame, mid-answer too. (Rate limits
    # and conversation locks still need Redis: a chat then gets an ``unavailable`` error.)
    channel_layer_alias = None  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.turns: list[Turn] = []  # oldest first, pruned as they finish

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
        try:
            if not raw:
                raise APIError(_NO_KEY, type="authentication_failed", status_code=401)
            context = await db_sync(_resolve)(raw, headers)
            if not context.has("chat"):
                raise APIError(_NO_CHAT, type="permission_denied", status_code=403)
            visitor = visitor_of(context, *self._origin_and_address())
            self.socket_slot = await open_socket(context, visitor)  # 429 beyond the caps
        except APIError as exc:
            code = _CLOSE_CODES.get(exc.status_code, CLOSE_UNAUTHORIZED)
            return await self._refuse({"type": exc.type, "message": str(exc.detail)}, code, chosen)
        except Exception as exc:  # the database or Redis down: an HTTP 500 at the handshake
            log.exception("WebSocket authentication failed")
            status, body, _headers = internal_error(exc)
            code = CLOSE_UNAVAILABLE if status == 503 else CLOSE_INTERNAL_ERROR
            return await self._refuse(body["error"], code, chosen)
        self.context = context
        try:
            await self.accept(subprotocol=chosen)
        except BaseException:
            await asyncio.shield(self._give_place_back())
            raise
        self._guard = asyncio.get_running_loop().create_task(self._close_when_revoked())

    async def _refuse(self, error: dict[str, Any], code: int, subprotocol: str | None) -> None:
        """A socket refused (no key, a bad one, no ``chat`` permission, an origin the key may
        not serve; the database down) is accepted, told why in an ``error`` event and closed
        with ``code`` (reason: the error's type). Closed before its handshake, as it was, a real
        server (uvicorn, daphne) answered every refusal with a bare HTTP 403 (a failure: 500):
        no body, no close code, and a browser sees nothing."""
        await self.accept(subprotocol=subprotocol)
        await self.send_json({"type": "error", "error": error})
        await self.close(code=code, reason=error["type"])

    async def _close_when_revoked(self) -> None:
        """An idle socket ends within CHAT_REVALIDATE_SECONDS of its key's revocation (expiry,
        tenant suspension), as streams do: it used to stay open until its next frame. The loop's
        watcher checks each credential once per interval, however many sockets share it."""
        from conversations.revocation import watcher

        watch = watcher(float(getattr(settings, "CHAT_REVALIDATE_SECONDS", 2.0)))
        revoked = watch.watch(self.context)
        try:
            await revoked.wait()
        finally:
            watch.unwatch(self.context, revoked)
        # A streaming chat ends itself (its error event); a queued one is refused by _run.
        running = [t.task for t in self.turns if t.task is not None and not t.task.done()]
        if running:
            await asyncio.wait(running)
        if not self.closed and not self.closing:
            if not self.told_invalid:  # (a chat cut short by it said so: one event, not two)
                await self._error("authentication_failed", _INVALID_KEY)
            await self.close(code=CLOSE_UNAUTHORIZED, reason="authentication_failed")

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if self.context is None or self.closing:  # refused, or closed by us: frames unread
            return
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # POST /v1/chat's JSON body limit
        if text_data and len(text_data) * 4 > limit and _utf8_size(text_data) > limit:
            # The server's own frame limit (uvicorn: 16 MiB) let 8 times what HTTP takes in,
            # stored as the chat's `metadata` on its conversation and message alike.
            message = (
                f"The frame is larger than the {limit:,}-byte limit for a message on this socket "
                "(POST /v1/chat's body limit); send less."
            )
            await self._error("payload_too_large", message, details={"max_bytes": limit})
            return
        # Channels' JSON consumer raises on these, which drops the socket without a close frame.
        if text_data is None:
            await self._error(
                "invalid_request",
                'Send messages as text frames holding JSON, such as {"type": "chat", ...}.',
            )
            return
        try:  # strict: NaN, NUL, unpaired surrogates, deep nesting (a RecursionError before)
            content = jsonbody.loads(text_data)
        except jsonbody.BadJSON as exc:
            message = str(exc)
            if message == jsonbody.NOT_JSON:
                message = (
                    'The message is not valid JSON. Send a JSON object such as {"type": "chat", '
                    '"bot": "...", "message": "..."} or {"type": "cancel"}.'
                )
            await self._error("invalid_request", message)
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        self.turns = [t for t in self.turns if t.task is None or not t.task.done()]
        if kind == "cancel":
            # With the ``message_id`` of a chat's ``start``: that chat only, if still running (a
            # cancel crossing its ``end`` stopped the next queued chat instead); else the oldest.
            target = content.get("message_id")
            current = next(
                (t for t in self.turns if not t.ended and target in (None, t.message_id)), None
            )
            if current is not None:
                current.cancel()
            return
        if kind == "ping":  # a browser cannot send protocol pings: this is its keep-alive
            await self.send_json({"type": "pong"})
            return
        if kind != "chat":
            await self._error(
                "invalid_request",
                'Send {"type": "chat", ...}, {"type": "cancel"} or {"type": "ping"}.',
            )
            return
        cap = settings.WS_MAX_CHATS_PER_SOCKET
        if cap and len(self.turns) >= cap:
            # Each queued chat holds a task and its frame: without a cap one socket could
            # queue any number of them (only the rate limit stopped it). Refused at once, so
            # this error comes before the events of the chats ahead of it.
            await self._error(
                "rate_limited",
                f"This chat was not started: this socket already has {cap} chats running or "
                f"queued, the most it may (WS_MAX_CHATS_PER_SOCKET). The chats already sent go "
                "on; send this one again once one of them has ended.",
                details=conversation_echo(content),
            )
            return
        # Chats on one socket run one after another: a new one waits for the previous one.
        previous = self.turns[-1].task if self.turns else None
        turn = Turn()
        turn.task = asyncio.ensure_future(self._chat(turn, content, after=previous))
        self.turns.append(turn)

    async def send_json(self, content: Any, close: bool = False) -> None:
        if content.get("type") == "error" and content["error"]["type"] == "authentication_failed":
            self.told_invalid = True
        if not self.closed:
            await super().send_json(content, close)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        if not self.closed and not self.closing:
            self.closing = True
            await super().close(code, reason)

    async def _error(self, type_: str, message: str, details: dict | None = None) -> None:
        error: dict[str, Any] = {"type": type_, "message": message}
        if details:
            error["details"] = details
        await self.send_json({"type": "error", "error": error})

    async def _chat(
        self, turn: Turn, content: dict[str, Any], after: asyncio.Task | None = None
    ) -> None:
        if after is not None:
            await asyncio.wait([after])  # its outcome is its own; this chat only waits its turn
        try:
            await self._run(turn, content)
        except Exception as exc:
            # Not an APIError (those are error events already): a dependency down (the
            # database, Redis) or a bug. The task used to die silently and the client waited
            # for this chat's last event forever; it gets an ``error`` event worded as the HTTP
            # paths word it (503 ``unavailable`` or 500 ``internal_error``), and the socket
            # serves the next chat.
            log.exception("WebSocket chat failed")
            if turn.ended:  # its ``end`` or ``error`` event went out already
                return
            turn.ended = True
            _status, body, _headers = internal_error(exc)
            if not turn.streaming:  # (once streaming, `start` named the conversation)
                details = conversation_echo(content, body["error"].get("details"))
                if details:
                    body["error"]["details"] = details
            with contextlib.suppress(Exception):  # (the socket may be gone)
                await self.send_json({"type": "error", **body})

    async def _run(self, turn: Turn, content: dict[str, Any]) -> None:
        if not await db_sync(_still_valid)(self.context):
            # A socket outlives its key: each chat re-checks it (revoked, expired, suspended).
            await self._error(
                "authentication_failed", _INVALID_KEY, details=conversation_echo(content)
            )
            await self.close(code=CLOSE_UNAUTHORIZED, reason="authentication_failed")
            return
        try:
            # Counted before the frame is read, as HTTP counts a bad request once its
            # credential is known: malformed chat frames were free (a database check each).
            await self._rate_limit()
            data = ChatInput.from_payload(content, transport=("type",))
            # Started here, the embedding computes while the bot is read.
            embedding = await query_embeddings.aprefetch(
                data.message.strip(), self.context.tenant.id
            )
            # The credential's chat slot and the conversation's lock, as for SSE: a socket's
            # chat and an HTTP chat on one conversation do not answer at the same time.
            prep, slot = await start_chat(
                self.context, data, embedding, time.perf_counter(), visitor=self._visitor()
            )
            turn.message_id = str(prep.message_id)
        except APIError as exc:
            turn.ended = True
            details = dict(exc.details or {})
            if exc.headers.get("Retry-After", "").isdigit():  # what HTTP says in the header
                details.setdefault("retry_after", int(exc.headers["Retry-After"]))
            await self._error(exc.type, str(exc.detail), conversation_echo(content, details))
            return
        try:
            if turn.cancelled:
                await self._cancelled_before_start(turn, prep)
                return
            turn.streaming = True  # (no await since the check above: a cancel now cancels it)
            try:
                async with aclosing(run_chat(prep)) as events:
                    async for event, payload in events:
                        if event in ("end", "error"):
                            turn.ended = True
                        await self.send_json({"type": event, **payload})
            except asyncio.CancelledError:
                if turn.cancelled:  # the client asked: tell it the chat stopped
                    turn.ended = True
                    with contextlib.suppress(Exception):
                        await self.send_json(cancelled_end(prep))
                    return
                raise
        finally:  # (stores the turn if the socket closed before the chat ran)
            await asyncio.shield(finish_unrun(prep, slot))

    async def _cancelled_before_start(self, turn: Turn, prep: PreparedChat) -> None:
        """Save the turn as ``run_chat`` saves a chat cut short before its start writes: the
        conversation (when new), the question and an empty ``cancelled`` answer, in one
        transaction; then the events, ``end`` once the answer is stored (as ``run_chat`` does)."""
        saving = chat_writes.store_unstarted(prep)
        await self.send_json(
            {
                "type": "start",
                "conversation_id": str(prep.conversation.id),
                "message_id": str(prep.message_id),
                "bot": prep.bot.slug,
            }
        )
        if saving is not None:
            await chat_writes.settle(saving, prep)
        turn.ended = True
        await self.send_json(cancelled_end(prep))

    async def _rate_limit(self) -> None:
        try:
            from apikeys.ratelimit import ahit, rate_limited_error
        except ImportError:  # pragma: no cover
            return
        from conversations.streaming import visitor_limit

        # The visitor's own limit first: a chat it refuses does not spend the site key's.
        await visitor_limit(self.context, *self._origin_and_address())
        decision = await ahit(self.context, bucket="api")
        if not decision.allowed:
            raise rate_limited_error(decision)

    def _origin_and_address(self) -> tuple[str, str]:
        origin = next((v for k, v in self.scope["headers"] if k.lower() == b"origin"), b"")
        client = self.scope.get("client") or ("", 0)
        return origin.decode("latin-1"), client[0] or ""

    def _visitor(self) -> str:
        """Who this socket's chats are counted for within a browser key (``visitor_of``)."""
        return visitor_of(self.context, *self._origin_and_address())

    async def _give_place_back(self) -> None:
        slot, self.socket_slot = self.socket_slot, None
        await close_socket(slot)

    async def disconnect(self, code: int) -> None:
        # A streaming chat is cancelled (``run_chat`` saves its partial answer); the chats
        # queued behind it or still being prepared are cancels noted, so each is prepared
        # and stored as cancelled in turn (they used to be dropped, their questions lost).
        self.closed = True
        await asyncio.shield(self._give_place_back())
        if self._guard is not None:
            self._guard.cancel()
        for turn in self.turns:
            turn.cancel()
        for turn in self.turns:
            if turn.task is not None and not turn.task.done():
                with contextlib.suppress(BaseException):
                    await turn.task
