"""export_conversations --tenant T [--user U] [--since 30d] [--output FILE]: a tenant's
conversations (one end user's with --user: the right of access) as JSON Lines, one conversation
per line with its messages (keys: ``conversations.export``, README "End users' data").

Streamed: conversations are read a batch at a time with their messages and written as they come,
so a tenant with 100,000 messages is never held in memory. To standard output by default (pipe
it; ``| head`` ending the pipe stops it quietly, manage.py); with --output the lines go to a
temporary file beside FILE that replaces it once complete (an interrupted export never looks
like a finished one), with a progress bar on stderr and the closing count on stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from django.core.management.base import CommandError
from django.core.serializers.json import DjangoJSONEncoder

from bots.cli import tenant_named
from chatbot_project.commands import CheckedCommand
from chatbot_project.progress import progress
from conversations.export import conversations_to_export, export_rows
from conversations.management.commands.purge_conversations import cutoff_for, parse_age


class Command(CheckedCommand):
    help = (
        "Write a tenant's conversations (one end user's with --user) as JSON Lines: one "
        "conversation per line with its messages, citations, feedback and usage."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", required=True, metavar="SLUG", help="the tenant")
        parser.add_argument(
            "--user", help="only this end user's conversations (the id sent with the chats)"
        )
        parser.add_argument(
            "--since", metavar="AGE",
            help="only conversations active within this age: 30d, 12h, 30min, 4w",
        )  # fmt: skip
        parser.add_argument(
            "--output", metavar="FILE", help="write to FILE instead of standard output"
        )

    def handle(
        self, *args: Any, tenant: str, user: str | None, since: str | None, output: str | None,
        **opts: Any,
    ) -> None:  # fmt: skip
        if not tenant.strip():
            raise CommandError("--tenant is empty; give a tenant's slug.")
        if user is not None and not user:
            # An empty --user "$VAR" must not turn into every conversation of the tenant.
            raise CommandError(
                "--user is empty; give the end user's id, as sent with the chats, or leave "
                "--user out to export the whole tenant."
            )
        cutoff = cutoff_for(parse_age(since, "--since"), since, "--since") if since else None
        qs = conversations_to_export(tenant=tenant_named(tenant), user=user, since=cutoff)
        if output is None or output == "-":
            self._write(qs, self.stdout._out, None)
            return
        target = Path(output)
        if target.is_dir():
            raise CommandError(f"--output {output!r} is a directory; name a file in it.")
        try:
            handle, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
            )
        except OSError as exc:
            raise CommandError(f"Cannot write {output!r}: {exc.strerror}.") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                bar = progress(total=qs.count(), desc="export", unit="conversation",
                           file=self.stderr._out)  # fmt: skip
                conversations, messages = self._write(qs, stream, bar)
                bar.close()
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self.stdout.write(
            f"Wrote {conversations} conversation(s) ({messages} messages) to {output}."
        )

    @staticmethod
    def _write(qs: Any, stream: IO[str], bar: Any) -> tuple[int, int]:
        conversations = messages = 0
        for row in export_rows(qs):
            stream.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n")
            conversations += 1
            messages += len(row["messages"])
            if bar is not None:
                bar.update(1)
        stream.flush()
        return conversations, messages
