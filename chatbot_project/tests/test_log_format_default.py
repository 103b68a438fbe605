"""LOG_FORMAT's default: text for a person at a terminal, JSON for log collectors.

Repro (fresh-clone review): `manage.py ingest ...` run at a terminal without DEBUG printed JSON
log lines ("document ... created") between its own progress lines. Servers and workers (stderr
a pipe or a file, as in containers) keep JSON; LOG_FORMAT set explicitly wins either way.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from chatbot_project.testing.processes import BASE_DIR, child_env

CODE = "import django; django.setup(); from django.conf import settings; print(settings.LOG_FORMAT)"


def _format(*, terminal: bool, **env: str) -> str:
    environment = child_env(DEBUG="false", **env)
    if "LOG_FORMAT" not in env:
        environment.pop("LOG_FORMAT", None)
    if not terminal:
        done = subprocess.run(
            [sys.executable, "-c", CODE], cwd=BASE_DIR, env=environment,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return done.stdout.strip()
    main, child = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", CODE], cwd=BASE_DIR, env=environment,
            stdout=subprocess.PIPE, stderr=child, text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(child)
        os.close(main)
    return done.stdout.strip()


def test_a_terminal_gets_text_and_a_pipe_gets_json():
    assert _format(terminal=True) == "text"
    assert _format(terminal=False) == "json"


def test_an_explicit_log_format_wins():
    assert _format(terminal=True, LOG_FORMAT="json") == "json"
    assert _format(terminal=False, LOG_FORMAT="text") == "text"
