"""Commands' informational lines on stderr are plain text on a terminal, not Django's error
style (bold red): `create_api_key` printed "Created key 'ops' ... Store it now" and `ingest`
"Created dataset 'Inbox'." as manage.py prints a failure. Errors keep the error style."""

from __future__ import annotations

import io

import pytest
from django.core.management import load_command_class
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db

RED = "\x1b[31;1m"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(app: str, name: str, *argv: str) -> tuple[str, str]:
    """As manage.py runs a command on a terminal (call_command's own streams are unstyled)."""
    out, err = Terminal(), Terminal()
    command = load_command_class(app, name)
    command.__init__(stdout=out, stderr=err, force_color=True)
    options = vars(command.create_parser("manage.py", name).parse_args(argv))
    args = options.pop("args", ())
    try:
        command.execute(*args, **options)
    except CommandError as exc:  # what BaseCommand.run_from_argv prints
        command.stderr.write(f"CommandError: {exc}")
    return out.getvalue(), err.getvalue()


def test_create_api_key_says_created_in_plain_text(tenant):
    out, err = _run("apikeys", "create_api_key", "--tenant", tenant.slug, "--name", "ops")
    assert "Created key 'ops'" in err
    assert RED not in err, repr(err)
    assert out.splitlines()[-1].startswith("cb_")


def test_ingest_says_it_created_the_dataset_in_plain_text(tenant, tmp_path):
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nSome text to keep.")
    _out, err = _run("datasets", "ingest", "--tenant", tenant.slug, "--dataset", "Inbox", str(note))
    assert "Created dataset 'Inbox'." in err
    assert RED not in err, repr(err)


def test_errors_keep_the_error_style(tenant):
    _out, err = _run("apikeys", "create_api_key", "--tenant", "nobody", "--name", "x")
    assert f"{RED}CommandError: " in err, repr(err)
