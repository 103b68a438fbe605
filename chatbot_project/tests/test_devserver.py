"""``make run`` (chatbot_project/devserver.py): a taken port is refused at once with a sentence,
before the embedded services, migrations and the demo (it failed after ~50 s of set-up, with
uvicorn's "[Errno 98] ... address already in use" and a make error)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parents[2]


def test_a_taken_port_is_refused_before_any_set_up():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            # Unreachable on purpose: the check must come before anything touches them.
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "chatbot_project.devserver"],
            cwd=BASE, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert f"PORT={port + 1} make run" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 20


def test_a_failing_set_up_step_ends_with_a_sentence_not_a_traceback(tmp_path):
    env = {
        **os.environ,
        "PORT": "0",  # not checked: nothing listens on port 0
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",  # unreachable on purpose
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "chatbot_project.devserver"],
        cwd=BASE, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "make run: `manage.py migrate --noinput` failed" in done.stderr
    assert "CalledProcessError" not in done.stderr
