"""manage.py with a bad environment variable prints that variable's sentence, once, without a
traceback. Repro (fresh clone, embedded services, no DEBUG): `RATE_LIMIT_DEFAULT=abc manage.py
check` showed a traceback ending in "Set SECRET_KEY (or SECRET_KEY_FILE) ...": Django imports
the settings a second time after a failed first import, which had already set DATABASE_URL for
the embedded server, so the second import no longer counted as local development and asked for
a SECRET_KEY; the variable actually wrong was never named."""

from __future__ import annotations

import os
import subprocess
import sys

from chatbot_project.testing.processes import BASE_DIR

DROP = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "TESTING", "TEST_KEEP_REDIS_URL"}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py *args`` in a fresh process: the test run's environment without its database,
    Redis, secret and test flags, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k not in DROP and not k.startswith("PYTEST")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR, env={**base, "DJANGO_SETTINGS_MODULE": "chatbot_project.settings", **env},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_bad_variable_is_named_in_one_sentence():
    done = _manage("check", RATE_LIMIT_DEFAULT="abc")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "Set SECRET_KEY" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "ImproperlyConfigured: RATE_LIMIT_DEFAULT='abc' is not a rate limit; use "
        "<count>/<s|m|h|d> with a count of at least 1, e.g. 60/m."
    )


def test_django_commands_name_an_unreachable_database_in_one_sentence():
    """`manage.py migrate` (a Django command, not one of ours) with the database down printed a
    traceback ending in psycopg_pool's PoolTimeout; our commands already said it in a sentence."""
    env = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere", "DEBUG": "true",
        "REDIS_URL": "redis://127.0.0.1:1/0", "DB_POOL_TIMEOUT_SECONDS": "1",
        "SECRET_KEY": "x" * 50,
    }  # fmt: skip
    done = _manage("migrate", **env)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("CommandError: The database cannot be used right now ("), line
    assert line.endswith("check DATABASE_URL and that it runs, then run the command again."), line
    again = _manage("migrate", "--traceback", **env)
    assert "Traceback" in again.stderr  # asked for
