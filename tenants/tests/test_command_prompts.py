"""Ctrl-D or Ctrl-C at a command's prompt (create_user's password, delete_tenant's "type the
slug") is one sentence and an exit status, with nothing changed; Ctrl-C anywhere else in a
command is exit 130 without a traceback.

Both printed a Python traceback (EOFError, KeyboardInterrupt) over the prompt: an operator
changing their mind at "Type the slug (acme) to delete all of this for good:" saw a crash."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants.models import Tenant

pytestmark = pytest.mark.django_db

ANSWERS = [
    (EOFError, 1, "No answer at the prompt (Ctrl-D); nothing was changed."),
    (KeyboardInterrupt, 130, "Stopped at the prompt (Ctrl-C); nothing was changed."),
]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _pressed(key: type[BaseException]):
    def read(prompt: str = "") -> str:
        raise key()

    return read


def _create_alice_stops_with(sentence: str, code: int) -> None:
    with pytest.raises(CommandError) as caught:
        call_command(
            "create_user", "--tenant", "acme", "alice", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert (str(caught.value), caught.value.returncode) == (sentence, code)
    assert not get_user_model().objects.filter(username="alice").exists()


@pytest.mark.parametrize(("key", "code", "sentence"), ANSWERS)
def test_create_user_at_the_password_prompt(tenant, monkeypatch, key, code, sentence):
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("getpass.getpass", _pressed(key))
    _create_alice_stops_with(sentence, code)


@pytest.mark.parametrize(("key", "code", "sentence"), ANSWERS)
def test_create_user_at_the_second_password_prompt(tenant, monkeypatch, key, code, sentence):
    answers = iter(["Correct-Horse-9"])

    def read(prompt: str = "") -> str:
        for answer in answers:
            return answer
        raise key()

    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("getpass.getpass", read)
    _create_alice_stops_with(sentence, code)


@pytest.mark.parametrize(("key", "code", "sentence"), ANSWERS)
def test_delete_tenant_at_the_confirmation_prompt(tenant, monkeypatch, key, code, sentence):
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", _pressed(key))
    with pytest.raises(CommandError) as caught:
        call_command("delete_tenant", "acme", stdout=io.StringIO(), stderr=io.StringIO())
    assert (str(caught.value), caught.value.returncode) == (sentence, code)
    assert Tenant.objects.filter(slug="acme").exists()


def test_ctrl_c_elsewhere_in_a_command_is_130_without_a_traceback(tenant, monkeypatch):
    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("tenants.management.commands.create_tenant.tenant_create", interrupted)
    with pytest.raises(CommandError) as caught:
        call_command("create_tenant", "globex", stdout=io.StringIO(), stderr=io.StringIO())
    assert (str(caught.value), caught.value.returncode) == ("Interrupted (Ctrl-C).", 130)
