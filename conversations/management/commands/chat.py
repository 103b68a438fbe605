"""Chat with a bot in the terminal: streams the answer, then prints its citations.

    manage.py chat --tenant acme --bot helper "How do I throttle anonymous users?"
    manage.py chat --tenant acme --bot helper          # REPL; the conversation carries on

Runs the same orchestration generator as /v1/chat (as the tenant, with every permission).
In the REPL a line that cannot be sent (NUL, bytes that are not UTF-8) is skipped with a note on
stderr, and a question the API refuses prints its error; either way the REPL goes on. Ctrl-C
stops the answer being streamed (saved as ``cancelled``, like a client that leaves): the REPL
goes on; a single question exits with 130. Ctrl-C or Ctrl-D at the prompt ends the REPL.
A single question whose answer failed (the model provider down...) exits with 1 once its error
is printed; in the REPL the next question may be asked.
A turn in an existing conversation takes its lock, as /v1/chat and the WebSocket do: while the
conversation answers elsewhere the question is refused with one line (the REPL goes on), and
while the command answers, a message sent to it through the API is a 409 ``conflict``.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
from typing import Any

from asgiref.sync import sync_to_async
from django.core.management.base import CommandError
from django.db import connections

from chatbot_project.commands import CheckedCommand, text_problem
from chatbot_project.errors import APIError

STOPPED = object()  # _ask's answer when Ctrl-C stopped the chat
# The API's 404s are worded for a credential; the operator has none and named the tenant.
_NOT_VISIBLE = ", or it is not visible to this credential."
_HINTS = {
    "bot": "make one with `manage.py create_bot` (or POST /v1/bots, or the admin)",
    "scope": "make one with `manage.py create_scope` (or POST /v1/scopes, or the admin)",
    "conversation": "leave --conversation out to start a new one",
}


class Command(CheckedCommand):
    last_conversation: str | None = None
    failed = False  # the last answer ended with an ``error`` event
    help = "Ask a bot a question (streamed), or start a REPL when no question is given."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("question", nargs="*", help="the question; omit for a REPL")
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--bot", required=True, help="bot slug or id")
        parser.add_argument("--scope", help="scope slug or id (default: the bot's)")
        parser.add_argument(
            "--user",
            help="end-user id stored on a new conversation (default: cli); with --conversation, "
            "only that end user's conversation is continued (default: any)",
        )
        parser.add_argument("--conversation", help="continue this conversation id")

    def handle(self, *args: Any, **opts: Any) -> None:
        from conversations import selectors
        from conversations.chat_input import MAX_USER_CHARS
        from tenants.context import ROLE_PERMISSIONS, AuthContext
        from tenants.models import Tenant

        tenant = Tenant.objects.filter(slug=opts["tenant"], is_active=True).first()
        if tenant is None:
            raise CommandError(f"No active tenant {opts['tenant']!r}; see create_tenant.")
        if len(opts.get("user") or "") > MAX_USER_CHARS:
            raise CommandError(f"--user must be at most {MAX_USER_CHARS} characters.")
        context = AuthContext(tenant=tenant, permissions=ROLE_PERMISSIONS["owner"])
        conversation = opts.get("conversation")
        question = " ".join(opts["question"]).strip()
        if opts["question"] and not question:
            # `chat ... "$QUESTION"` with the variable empty: not a REPL reading stdin (a script
            # then hung at a terminal, or exited 0 with no answer).
            raise CommandError("The question is empty; give one, or leave it out for a REPL.")
        if question:
            try:
                asked = self._ask(context, opts, question, conversation)
            except _Gone as exc:  # a plain CommandError: Django prints a subclass's own name
                raise CommandError(str(exc)) from None
            if asked is STOPPED:
                raise SystemExit(130)  # the shell's code for an interrupted command
            if self.failed:  # the answer failed (its error is printed; the turn is stored)
                raise SystemExit(1)
            return
        # An unknown bot or scope is said once, not after every question of the REPL.
        try:
            selectors.bot_resolve(tenant=tenant, ref=opts["bot"])
            if opts.get("scope"):
                selectors.scope_resolve(tenant=tenant, ref=opts["scope"])
        except APIError as exc:
            raise CommandError(_sentence(exc, opts)) from None
        self.stdout.write("Type a question (empty line or Ctrl-D to quit).")
        # Bytes that are not UTF-8 arrive as lone surrogates (refused below), not as a
        # UnicodeDecodeError that would end the REPL.
        errors = getattr(sys.stdin, "errors", None)
        reconfigure = getattr(sys.stdin, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="surrogateescape")
        try:
            self._repl(context, opts, conversation)
        finally:
            # A stream still holding read-ahead text (a pipe or file whose empty line ended
            # the REPL) refuses to be reconfigured: it keeps surrogateescape then.
            if reconfigure is not None and errors:
                with contextlib.suppress(io.UnsupportedOperation):
                    reconfigure(errors=errors)

    def _repl(self, context: Any, opts: dict, conversation: str | None) -> None:
        line = 0
        while True:
            try:
                question = input("> ").strip()
            except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C: end the prompt's line
                self.stdout.write("")
                break
            line += 1
            if not question:
                break
            found = text_problem(question, f"Line {line}")
            if found:
                self.stderr.write(f"{found} It was skipped.")
                continue
            try:
                asked = self._ask(context, opts, question, conversation)
            except _Gone as exc:  # deleted (or its bot deleted) while the REPL ran
                self.stderr.write(
                    f"error: conversation {conversation} can no longer be continued "
                    f"({exc.reason}); the next question starts a new conversation."
                )
                conversation = None
                continue
            except CommandError as exc:  # e.g. a question over the length limit
                self.stderr.write(f"error: {exc}")
                continue
            if asked is STOPPED:  # Ctrl-C stopped the answer: the REPL goes on
                asked = self.last_conversation
            conversation = asked or conversation

    def _ask(self, context: Any, opts: dict, question: str, conversation: str | None) -> Any:
        """The conversation id (None if none started), or ``STOPPED`` after Ctrl-C."""
        from conversations import chat_writes
        from conversations.chat import ChatInput, prepare_chat, run_chat
        from conversations.slots import acquire_stream_slot, release_stream_slot

        data = ChatInput(
            bot=opts["bot"], message=question, conversation_id=conversation,
            scope=opts.get("scope"), user=_user(opts, conversation),
        )  # fmt: skip
        citations: list[dict] = []
        state: dict[str, Any] = {}

        async def stream() -> None:
            slot = None
            try:
                # One answer at a time per conversation, as on /v1/chat and the WebSocket: the
                # same Redis lock (a conversation answering elsewhere refuses this question).
                if conversation:
                    slot = await acquire_stream_slot(context, conversation, counted=False)
                await _events()
            finally:
                try:
                    await release_stream_slot(context, slot)  # after run_chat stored the turn
                finally:
                    # The DB work ran in asgiref's worker thread: close its connection there.
                    await sync_to_async(connections.close_all)()

        async def _events() -> None:
            preparing = asyncio.ensure_future(sync_to_async(prepare_chat)(context, data))
            try:
                prep = await asyncio.shield(preparing)
            except asyncio.CancelledError:  # Ctrl-C before the answer streamed
                # Stored as cut short once prepared, as /v1/chat stores a client gone by then.
                try:
                    prep = await preparing
                    state["conversation_id"] = str(prep.conversation.id)
                    await chat_writes.stored_unstarted(prep)
                except Exception as exc:  # said, not hidden: the question was not stored
                    logging.getLogger("chatbot.chat").warning(
                        "chat command: the interrupted question was not stored", exc_info=True
                    )
                    state["unsaved"] = getattr(exc, "detail", None) or type(exc).__name__
                raise
            async for event, payload in run_chat(prep):
                if event == "start":
                    state["conversation_id"] = payload["conversation_id"]
                elif event == "citations":
                    citations.extend(payload["citations"])
                elif event == "delta":
                    self.stdout.write(payload["text"], ending="")
                    self.stdout.flush()
                elif event == "end":
                    state["end"] = payload
                elif event == "error":
                    state["error"] = payload["error"]

        try:
            asyncio.run(stream())
        except APIError as exc:
            if exc.type == "conflict" and "Retry-After" in (exc.headers or {}):
                raise CommandError(
                    f"Conversation {conversation} is still answering a message sent elsewhere "
                    "(an API or WebSocket chat); ask again once that answer has ended."
                ) from None
            sentence = _sentence(exc, opts, conversation)
            if conversation and (exc.type == "conflict" or sentence.startswith("No such conv")):
                raise _Gone(sentence) from None  # deleted, or its bot deleted
            raise CommandError(sentence) from None
        except KeyboardInterrupt:  # asyncio.run cancelled the chat: run_chat stored it
            self.last_conversation = state.get("conversation_id")
            if "unsaved" in state:
                self.stderr.write(f"\n(stopped; the question was not stored: {state['unsaved']})")
            else:
                self.stderr.write("\n(stopped; the partial answer is saved as cancelled)")
            return STOPPED
        self.stdout.write("")
        self.failed = "error" in state
        if self.failed:
            self.stderr.write(f"error: {state['error']['message']}")
        end = state.get("end") or {}
        if end.get("refused"):
            self.stdout.write("(refused)")
        elif citations:
            self.stdout.write("\nSources:")
            for c in citations:
                where = f" ({c['source']})" if c.get("source") else ""
                self.stdout.write(
                    f"  [{c['index']}] {c['document_title']}{where}  score {c['score']}"
                )
        sys.stdout.flush()
        return state.get("conversation_id")


class _Gone(CommandError):
    """The conversation asked in cannot be continued: deleted, or its bot deleted (the REPL then
    starts a new one; a single question says so and exits 1)."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.reason = "it was deleted" if sentence.startswith("No such") else "its bot was deleted"


def _user(opts: dict, conversation: str | None) -> str:
    """``--user``; not given, ``cli`` for a new conversation, none when continuing one (an
    operator may continue any end user's: ``conversation_to_continue`` checks a named one)."""
    if opts.get("user") is not None:
        return opts["user"]
    return "" if conversation else "cli"


def _sentence(exc: APIError, opts: dict, conversation: str | None = None) -> str:
    """The API error's sentence; a bot, scope or conversation not found names what was asked
    for, in which tenant ("No such bot, or it is not visible to this credential." before);
    ``conversation``: the one asked in (the REPL's own, when --conversation was not given)."""
    detail = str(exc.detail)
    asked = {**opts, "conversation": conversation or opts.get("conversation")}
    for noun, hint in _HINTS.items():
        if detail == f"No such {noun}{_NOT_VISIBLE}":
            return f"No such {noun} {asked.get(noun)!r} in tenant {opts['tenant']!r}; {hint}."
    if exc.type == "conflict" and conversation:  # its bot was deleted
        return (
            f"Conversation {conversation}'s bot was deleted, so it cannot be continued; leave "
            "--conversation out to start a new one."
        )
    return detail
