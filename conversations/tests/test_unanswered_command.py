"""manage.py unanswered: the content gaps as a table cut to the terminal's width, and its bad
input as one CommandError sentence."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.utils import timezone

from conversations.tests.factories import BotFactory
from conversations.tests.test_unanswered import turn

pytestmark = pytest.mark.django_db


def run(*args: str, columns: int = 60) -> str:
    out = StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLUMNS", str(columns))
        call_command("unanswered", *args, stdout=out)
    return out.getvalue()


def test_the_table_most_asked_first_cut_to_the_width(tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    now = timezone.now()
    long = "How do I configure the " + "very " * 30 + "long option?"
    turn(bot, long, at=now - timedelta(hours=1))
    turn(bot, "Where is my invoice?", at=now - timedelta(hours=3))
    turn(bot, "where is my invoice", at=now - timedelta(hours=2))
    turn(bot, "Very old question?", at=now - timedelta(days=40))
    lines = run("--tenant", "acme", "--since", "30d").splitlines()
    assert lines[0].split() == ["COUNT", "LAST", "ASKED", "QUESTION"]
    assert lines[1].split()[0] == "2"
    assert lines[1].endswith("where is my invoice")
    assert lines[2].split()[0] == "1"
    assert lines[2].endswith("…")
    assert all(len(line) <= 60 for line in lines[:3])
    assert lines[-1] == "2 question(s)."
    assert "Very old question?" in run("--tenant", "acme")
    limited = run("--tenant", "acme", "--limit", "1").splitlines()
    assert limited[-1] == "1 question(s); more with a higher --limit."
    assert run("--tenant", "acme", "--bot", str(bot.pk)).count("\n") == 5


def test_nothing_to_show_and_a_deleted_bots_slug(tenant):
    old = BotFactory(tenant=tenant, slug="old")
    BotFactory(tenant=tenant, slug="helper")
    turn(old, "Asked of the old bot?")
    old.delete()
    assert run("--tenant", "acme", "--bot", "helper").strip() == (
        "No unanswered questions for bot 'helper'."
    )
    assert "Asked of the old bot?" in run("--tenant", "acme", "--bot", "old")


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--tenant", "nope"], "No tenant 'nope'"),
        (["--tenant", " "], "--tenant is empty"),
        (["--tenant", "acme", "--bot", "ghost"], "No bot 'ghost' in tenant 'acme' (its bots: "),
        (["--tenant", "acme", "--bot", "secret"], "No bot 'secret'"),
        (["--tenant", "acme", "--bot", ""], "--bot is empty"),
        (["--tenant", "acme", "--since", "3m"], "'m' could mean minutes or months"),
        (["--tenant", "acme", "--since", "soon"], "use a number and a unit"),
        (["--tenant", "acme", "--limit", "0"], "--limit '0': give a whole number"),
        (["--tenant", "acme", "--limit", "lots"], "--limit 'lots'"),
    ],
)
def test_bad_input_is_one_sentence(tenant, other_tenant, args, sentence):
    BotFactory(tenant=tenant, slug="helper")
    BotFactory(tenant=other_tenant, slug="secret")
    with pytest.raises(CommandError) as raised:
        call_command("unanswered", *args, stdout=StringIO())
    assert sentence in str(raised.value)
    assert "\n" not in str(raised.value)


def test_every_argument_says_what_it_takes():
    parser = load_command_class("conversations", "unanswered").create_parser("manage.py", "x")
    ours = [a for a in parser._actions if a.dest in {"tenant", "bot", "since", "limit"}]
    assert len(ours) == 4
    assert all((a.help or "").strip() for a in ours)
    assert parser.format_help()
