"""A base for the management commands: bad input is one sentence, never a traceback.

``CheckedCommand.execute`` refuses text arguments PostgreSQL could not store (the NUL character;
bytes that are not UTF-8, which Python hands over as lone surrogates) before ``handle`` runs, and
turns the errors the API answers with a 400 (``APIError``, DRF's and Django's
``ValidationError``), and the database or Redis (the broker) being unreachable, into
``CommandError``: Django prints ``CommandError: <sentence>`` on stderr and exits with status 1.

The helpers check values the way the API does: ``text_problem`` (jsonbody's rules, plus control
characters where a name is expected) and ``validated`` (an API serializer's validation).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DataError
from rest_framework.exceptions import APIException

from audit.context import acting_as, cli_actor
from chatbot_project.errors import _flatten
from chatbot_project.jsonbody import problem
from chatbot_project.logging import command_logging

# C0 and C1 control characters and DEL: never part of a name someone typed on purpose.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def text_problem(value: str, name: str, *, controls: bool = False) -> str | None:
    """A sentence about what in ``value`` (the argument ``name``) cannot be used, or None."""
    found = problem(value, name)
    if found is not None and "\x00" not in value:
        # The other thing problem() finds in a string is a lone surrogate, which is how Python
        # passes on argv or stdin bytes that are not UTF-8.
        return f"{name} is not valid UTF-8 text; check the encoding of the terminal or script."
    if found is not None:
        return f"{name} contains the NUL character, which cannot be stored; remove it."
    if controls and _CONTROL.search(value):
        return f"{name} contains a control character; use printable text only."
    return None


def check_text(value: str, name: str, *, controls: bool = False) -> None:
    found = text_problem(value, name, controls=controls)
    if found:
        raise CommandError(found)


def validated(
    serializer_class: type, data: dict[str, Any], names: dict[str, str] | None = None
) -> dict[str, Any]:
    """``data`` as an API serializer validates it; its first error as a CommandError
    ("<argument>: <message>"). ``names`` maps serializer fields to the command's options."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        errors = {(names or {}).get(key, key): value for key, value in serializer.errors.items()}
        raise CommandError(_flatten(errors))
    return dict(serializer.validated_data)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unreachable(exc: BaseException) -> tuple[str, str] | None:
    """``(service, its variable)`` when ``exc`` says the database or Redis (the broker too)
    cannot be reached: a sentence for the operator rather than a traceback."""
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, OperationalError | InterfaceError):
        return "The database", "DATABASE_URL"
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | BrokerError):
        return "Redis", "REDIS_URL"
    return None


def unreachable_sentence(exc: BaseException) -> str | None:
    """The operator's sentence when ``exc`` says the database or Redis cannot be reached, else
    None. Our commands raise it as their CommandError; manage.py prints it for Django's own
    commands (``migrate``, ``createsuperuser``...), which showed a traceback."""
    service = _unreachable(exc)
    if service is None:
        return None
    name, variable = service
    return (
        f"{name} cannot be used right now ({_first_line(exc)}); check {variable} and that it "
        "runs, then run the command again."
    )


# PostgreSQL's codes for a table or column that is not there: the code is newer than the
# database's schema (an upgrade without `migrate`, or a database restored from an older dump).
_SCHEMA_BEHIND = ("42P01", "42703")


def schema_sentence(exc: BaseException) -> str | None:
    """The operator's sentence when ``exc`` says the database lacks a table or column this
    code reads (migrations not applied), else None: every command showed a traceback."""
    from django.db import ProgrammingError

    if not isinstance(exc, ProgrammingError):
        return None
    if getattr(exc.__cause__, "sqlstate", None) not in _SCHEMA_BEHIND:
        return None
    return (
        f"The database schema is older than this code ({_first_line(exc)}); run "
        "`manage.py migrate`, then the command again."
    )


def chunks_label(count: int) -> str:
    """'1 chunk', '16 chunks': the commands' report lines."""
    return f"{count} chunk" if count == 1 else f"{count} chunks"


def worker_answers(timeout: float = 1.0) -> bool:
    """Whether a Celery worker answers a ping within ``timeout`` s (as /v1/health/ready asks).
    True when the ping itself fails: a command waiting for workers then says what it sees."""
    from chatbot_project.celery import app

    try:
        return bool(app.control.ping(timeout=timeout, limit=1))
    except Exception:
        return True


# Said before waiting for workers that are not there: the wait showed a progress bar stuck at 0
# until its timeout (an hour for ingest --wait) without a word.
NO_WORKER = (
    "No Celery worker answered a ping: the documents stay queued until one runs (`make run` "
    "starts one; otherwise `celery -A chatbot_project worker` with the same settings)"
)


class CheckedCommand(BaseCommand):
    """BaseCommand with argument checks and the API's errors as CommandError (module doc)."""

    def note(self, message: str) -> None:
        """An informational line on stderr (stdout keeps what scripts read), in plain text:
        Django styles stderr as an error, bold red on a terminal."""
        self.stderr.write(message, style_func=_plain)

    def prompt(self, read: Callable[[str], str], text: str) -> str:
        """``read(text)`` (``input``, ``getpass.getpass``) at a terminal. Ctrl-D or Ctrl-C there
        ends the command with one sentence (exit 1 or 130) instead of a traceback; call it
        before changing anything, as it says nothing was changed."""
        try:
            return read(text)
        except (EOFError, KeyboardInterrupt) as exc:
            self.stderr.write("", style_func=_plain)  # end the prompt's line
            if isinstance(exc, EOFError):
                raise CommandError(
                    "No answer at the prompt (Ctrl-D); nothing was changed."
                ) from None
            raise CommandError(
                "Stopped at the prompt (Ctrl-C); nothing was changed.", returncode=130
            ) from None

    def execute(self, *args: Any, **options: Any) -> Any:
        self._check_arguments(args, options)
        try:
            # Its changes are audit events by "cli:<os user>" (audit.context).
            with command_logging(options.get("verbosity", 1)), acting_as(cli_actor()):
                return super().execute(*args, **options)
        except KeyboardInterrupt:  # a traceback otherwise; 130 is the shell's code for it
            self.stderr.write("", style_func=_plain)
            raise CommandError("Interrupted (Ctrl-C).", returncode=130) from None
        except APIException as exc:  # includes our APIError
            raise CommandError(_flatten(exc.detail)) from None
        except DjangoValidationError as exc:
            from tenants.views import invalid  # the API's wording: "<field>: <message>"

            raise CommandError(str(invalid(exc).detail)) from None
        except DataError as exc:  # a value the checks above did not foresee
            raise CommandError(
                f"The database refused a value ({_first_line(exc)}); check the arguments."
            ) from None
        except Exception as exc:
            sentence = unreachable_sentence(exc) or schema_sentence(exc)
            if sentence is None or options.get("traceback"):
                raise
            raise CommandError(sentence) from None

    def _check_arguments(self, args: tuple, options: dict[str, Any]) -> None:
        parser = self.create_parser("manage.py", self.__module__.rsplit(".", 1)[-1])
        labels = {a.dest: (a.option_strings or [a.dest])[-1] for a in parser._actions}
        values: list[tuple[str, Any]] = [("argument", a) for a in args]
        values += [(labels.get(dest, dest), value) for dest, value in options.items()]
        for label, value in values:
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, str | PurePath):
                    check_text(str(item), label)


def _plain(text: str) -> str:
    return text
