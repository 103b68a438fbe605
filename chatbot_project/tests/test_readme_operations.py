"""README's Operations table names every option of each command it lists, and says what Ctrl-C
does to a command.

The table is the operator's reference (the step by step points there), but its rows left out
options an operator following it needs: `ingest --sync` (ingest without a worker: the step by
step runs the commands "`make run` or not", and `--wait` then waits for nobody), `--tags`,
`--timeout`; `chat --scope/--user/--conversation` (continuing a conversation); `create_user
--email/--no-input`; `reingest --timeout`."""

from __future__ import annotations

import re

import pytest
from django.core.management import get_commands, load_command_class
from django.core.management.base import BaseCommand

from chatbot_project.testing.processes import BASE_DIR

DJANGO_OPTIONS = {
    option
    for action in BaseCommand().create_parser("manage.py", "x")._actions
    for option in action.option_strings
}


def _rows() -> dict[str, str]:
    text = (BASE_DIR / "README.md").read_text()
    section = text.split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `manage\.py ([a-z_]+)([^`]*)` \|(.*)$", section, re.MULTILINE)
    return {name: usage + " " + does for name, usage, does in rows}


def _options(name: str) -> set[str]:
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    options = {o for action in parser._actions for o in action.option_strings}
    return {o for o in options - DJANGO_OPTIONS if o.startswith("--")}


@pytest.mark.parametrize("name", sorted(_rows()))
def test_each_row_names_every_option_of_its_command(name):
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", _rows()[name]))
    assert sorted(_options(name) - named) == []
    assert sorted(named - _options(name)) == []  # and no option the command lacks


def test_the_table_covers_the_project_s_commands():
    ours = {
        name
        for name, app in get_commands().items()
        if app in {"tenants", "apikeys", "datasets", "conversations", "bots"}
    }
    assert sorted(ours - set(_rows())) == []


def test_ctrl_c_is_said():
    text = (BASE_DIR / "README.md").read_text()
    intro = " ".join(text.split("\n## Operations\n", 1)[1].split("| command |", 1)[0].split())
    assert "Ctrl-C stops a command with status 130" in intro


def test_docs_running_says_it_too_and_how_to_ingest_without_a_worker():
    text = " ".join((BASE_DIR / "docs" / "running.md").read_text().split())
    assert "Ctrl-C stops a command with status 130" in text
    assert "`--sync` ingests them in the command itself, with no worker" in text
