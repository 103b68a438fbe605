"""The default ALLOWED_HOSTS names Django's test client ("testserver") only in tests: a server
started without ALLOWED_HOSTS answered requests for Host: testserver (ops review)."""

from __future__ import annotations

import subprocess
import sys

from chatbot_project.testing.processes import BASE_DIR, child_env

READ = "from django.conf import settings; print(settings.ALLOWED_HOSTS)"


def _hosts(**env: str) -> str:
    code = f"import django; django.setup(); {READ}"
    environment = child_env(**env)
    environment.pop("ALLOWED_HOSTS", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_testserver_is_a_default_host_only_in_tests():
    assert "testserver" in _hosts()
    served = _hosts(TESTING="0", DEBUG="true")
    assert "testserver" not in served
    assert "localhost" in served
