"""Who is making the change, for the events the services record (``audit.services``).

The request middleware binds each request here (``bind_request``: a context variable, no I/O, so
the chat paths pay nothing for it); the actor is worked out only when an event is recorded: the
API key or staff user of the request's credential (``request.auth_context``), else the admin's
signed-in user. Management commands run under ``acting_as(cli_actor())``
(``chatbot_project.commands.CheckedCommand``); anything else (a worker, a shell) is ``system``.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    type: str  # AuditEvent.ActorType
    id: str = ""
    label: str = ""
    via: str = ""  # "api", "admin", "cli"
    request_id: str = ""
    client_address: str = ""


SYSTEM = Actor(type="system", label="system")

_request: ContextVar[Any] = ContextVar("audit_request", default=None)
_override: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def bind_request(request: Any) -> Token:
    return _request.set(request)


def unbind_request(token: Token) -> None:
    _request.reset(token)


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _override.set(actor)
    try:
        yield
    finally:
        _override.reset(token)


def cli_actor() -> Actor:
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a container's uid)
        name = f"uid {os.getuid()}"
    return Actor(type="cli", id=name[:64], label=f"cli:{name}"[:200], via="cli")


def current_actor() -> Actor:
    override = _override.get()
    if override is not None:
        return override
    request = _request.get()
    if request is None:
        return SYSTEM
    where = {
        "via": "admin" if request.path.startswith("/admin/") else "api",
        "request_id": getattr(request, "request_id", "")[:64],
        "client_address": (request.META.get("REMOTE_ADDR") or "")[:64],
    }
    context = getattr(request, "auth_context", None)
    key = getattr(context, "api_key", None)
    if key is not None:
        return Actor(
            type="api_key", id=str(key.pk), label=f"{key.prefix} ({key.name})"[:200], **where
        )
    user = getattr(context, "user", None) or getattr(request, "user", None)
    if user is not None and getattr(user, "pk", None) and user.is_authenticated:
        return Actor(type="user", id=str(user.pk), label=user.get_username()[:200], **where)
    return Actor(type="system", label="system", **where)
