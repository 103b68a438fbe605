"""A bad environment variable stops the web server, the Celery worker and manage.py with one
sentence naming it ("ImproperlyConfigured: <sentence>", exit 1), never a traceback; `make run`
names the server's own variables before its set-up.

Repro (operator review): `RATE_LIMIT_DEFAULT=abc python -m chatbot_project.serve` and `celery -A
chatbot_project worker` printed ~30 and ~60 lines of traceback (Celery's through click, as its
command line was parsed); a malformed DATABASE_URL was a dj_database_url traceback in every
process, manage.py too; `GC_FULL_COLLECT_SECONDS=x make run` set up for ~20 s, then the server
died with a ValueError traceback between the worker's lines."""

from __future__ import annotations

import subprocess
import sys

from chatbot_project.testing.processes import BASE_DIR, child_env

RATE = (
    "ImproperlyConfigured: RATE_LIMIT_DEFAULT='abc' is not a rate limit; use <count>/<s|m|h|d> "
    "with a count of at least 1, e.g. 60/m."
)
DATABASE = (
    "ImproperlyConfigured: DATABASE_URL is not a valid PostgreSQL URL: use postgresql://<user>:"
    "<password>@<host>:<port>/<database>, with special characters of the password "
    "percent-encoded (@ as %40)."
)
# A password with an unquoted "/" and a port that is not one: dj_database_url cannot parse it.
BAD_DATABASE_URL = "postgresql://chatbot:s3cr/et@db:port/chatbot"
WORKER = [
    sys.executable, "-m", "celery", "-A", "chatbot_project", "worker", "--pool", "solo",
    "--without-gossip", "--without-mingle", "-n", "bad-setting@%h",
]  # fmt: skip
SERVER = [sys.executable, "-m", "chatbot_project.serve"]
MANAGE = [sys.executable, "manage.py", "check"]


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )  # fmt: skip


def assert_one_sentence(done: subprocess.CompletedProcess, sentence: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    assert done.stderr.strip() == sentence, output
    assert "s3cr" not in output  # the URL's password is not repeated


def test_the_server_names_a_bad_setting():
    assert_one_sentence(run(SERVER, child_env(RATE_LIMIT_DEFAULT="abc")), RATE)


def test_the_server_names_a_malformed_database_url():
    assert_one_sentence(run(SERVER, child_env(DATABASE_URL=BAD_DATABASE_URL)), DATABASE)


def test_the_server_names_its_own_bad_variable():
    done = run(SERVER, child_env(GC_FULL_COLLECT_SECONDS="x"))
    assert_one_sentence(done, "ImproperlyConfigured: GC_FULL_COLLECT_SECONDS='x' is not a number.")


def test_the_server_names_a_bad_uvicorn_choice():
    # Repro: UVICORN_LOOP=uvlop (a typo) was a uvicorn traceback once the server started.
    import uvicorn.config

    loops = sorted(getattr(uvicorn.config, "LOOP_SETUPS", None) or uvicorn.config.LOOP_FACTORIES)
    done = run(SERVER, child_env(UVICORN_LOOP="uvlop"))
    assert_one_sentence(done, f"ImproperlyConfigured: UVICORN_LOOP='uvlop' must be one of {loops}.")
    https = sorted(uvicorn.config.HTTP_PROTOCOLS)
    done = run(SERVER, child_env(UVICORN_HTTP="h2"))
    assert_one_sentence(done, f"ImproperlyConfigured: UVICORN_HTTP='h2' must be one of {https}.")


def test_the_worker_names_a_bad_setting():
    assert_one_sentence(run(WORKER, child_env(RATE_LIMIT_DEFAULT="abc")), RATE)


def test_the_worker_names_a_malformed_database_url():
    assert_one_sentence(run(WORKER, child_env(DATABASE_URL=BAD_DATABASE_URL)), DATABASE)


def test_manage_names_a_malformed_database_url():
    assert_one_sentence(run(MANAGE, child_env(DATABASE_URL=BAD_DATABASE_URL)), DATABASE)


def test_make_run_names_a_bad_server_variable_before_its_set_up():
    env = child_env(
        GIL_SWITCH_INTERVAL_MS="0",
        PORT="0",  # not checked (nothing listens on port 0)
        # Unreachable on purpose: the check comes before anything touches them.
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    done = run([sys.executable, "-m", "chatbot_project.devserver"], env)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "make run: ImproperlyConfigured: GIL_SWITCH_INTERVAL_MS=0.0 must be > 0."
    )
