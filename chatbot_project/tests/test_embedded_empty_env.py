"""Embedded services' variables left empty mean their defaults, as every other setting.
.env.example has `EMBEDDED_DATA_DIR=` (empty): `cp .env.example .env` then any manage.py
command or `make run` put a new PostgreSQL cluster and Redis in the project's root
(`./postgres`, `./redis`, `./secret_key`: the path "" resolved to the working directory),
beside the real `.data`, so the demo, keys and documents seemed gone; `make stop` without the
.env then did not stop them."""

from __future__ import annotations

import json
import subprocess
import sys

from chatbot_project.testing.processes import BASE_DIR, child_env

CODE = (
    "import json; from chatbot_project import embedded as e; "
    "print(json.dumps([str(e.DATA_DIR), e._server_settings()['shared_buffers'], "
    "e._setting('EMBEDDED_DB_NAME', e.DB_NAME)]))"
)


def _embedded(cwd, **env: str) -> list:
    """The values in a fresh Python run from ``cwd`` (where "" used to resolve)."""
    done = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=cwd, env=child_env(PYTHONPATH=str(BASE_DIR), **env),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_empty_values_mean_the_defaults(tmp_path):
    data_dir, buffers, name = _embedded(
        tmp_path, EMBEDDED_DATA_DIR="", EMBEDDED_PG_SHARED_BUFFERS="", EMBEDDED_DB_NAME=""
    )
    assert data_dir == str(BASE_DIR / ".data")
    assert buffers.endswith("MB")
    assert name == "chatbot"


def test_set_values_still_count(tmp_path):
    data_dir, buffers, name = _embedded(
        BASE_DIR,
        EMBEDDED_DATA_DIR=str(tmp_path),
        EMBEDDED_PG_SHARED_BUFFERS="256MB",
        EMBEDDED_DB_NAME="x",
    )
    assert (data_dir, buffers, name) == (str(tmp_path), "256MB", "x")
