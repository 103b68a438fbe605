"""create_user --password-stdin: a script can set a password without putting it on the command
line (where `ps` shows it to every local user and the shell history keeps it).

Repro (staff-auth review): the only non-interactive way was `--password P`.
"""

from __future__ import annotations

import io
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def _run(monkeypatch, stdin: str, *args: str) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("create_user", "--tenant", "acme", "dana", *args, stdout=out)
    return out.getvalue()


def test_the_password_is_read_from_the_first_line_of_stdin(tenant, monkeypatch):
    out = _run(monkeypatch, "correct horse battery staple\nignored\n", "--password-stdin")
    assert out.strip() == "Created user dana, member of tenant acme."
    assert get_user_model().objects.get(username="dana").check_password(
        "correct horse battery staple"
    )


def test_an_empty_stdin_or_a_weak_password_is_refused(tenant, monkeypatch):
    with pytest.raises(CommandError, match="standard input held no password"):
        _run(monkeypatch, "", "--password-stdin")
    with pytest.raises(CommandError, match="The password is refused"):
        _run(monkeypatch, "123\n", "--password-stdin")
    assert not get_user_model().objects.filter(username="dana").exists()


def test_password_and_password_stdin_together_are_refused(tenant, monkeypatch):
    with pytest.raises(CommandError, match="not allowed with argument"):
        _run(monkeypatch, "x\n", "--password-stdin", "--password", "also this")
