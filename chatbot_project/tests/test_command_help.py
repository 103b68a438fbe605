"""`manage.py <command> --help` explains every argument of the commands a new operator runs
first (README "Your own tenant, step by step"): `create_tenant`'s slug and `--name`,
`create_user`'s `--tenant` and username, `create_bot`'s `--temperature`, `ingest`'s
`--dataset` and paths... were listed bare, with nothing saying what they take."""

from __future__ import annotations

import pytest
from django.core.management import load_command_class

# Django's own options, the same for every command (and described by Django).
DJANGO_OWN = {
    "help", "version", "verbosity", "settings", "pythonpath", "traceback", "no_color",
    "force_color", "skip_checks",
}  # fmt: skip

COMMANDS = [
    ("tenants", "create_tenant"),
    ("tenants", "delete_tenant"),
    ("tenants", "create_user"),
    ("tenants", "otp_enroll"),
    ("tenants", "show_tenant"),
    ("bots", "create_bot"),
    ("bots", "create_scope"),
    ("datasets", "ingest"),
    ("conversations", "chat"),
    ("apikeys", "create_api_key"),
    ("apikeys", "revoke_api_key"),
    ("apikeys", "rotate_api_key"),
]


@pytest.mark.parametrize(("app", "name"), COMMANDS, ids=[n for _, n in COMMANDS])
def test_every_argument_says_what_it_takes(app, name):
    parser = load_command_class(app, name).create_parser("manage.py", name)
    bare = [
        a.option_strings[0] if a.option_strings else a.dest
        for a in parser._actions
        if a.dest not in DJANGO_OWN and not (a.help or "").strip()
    ]
    assert not bare, f"{name}: no help for {bare}"
    assert parser.format_help()  # the help renders (a stray % in a help text would raise)
