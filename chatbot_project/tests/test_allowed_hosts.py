"""The default ALLOWED_HOSTS names Django's test client ("testserver") only in tests: a server
started without ALLOWED_HOSTS answered requests for Host: testserver (ops review)."""

from __future__ import annotations

from chatbot_project.testing.processes import settings_in_child

READ = "from django.conf import settings; print(settings.ALLOWED_HOSTS)"


def _hosts(**env: str) -> str:
    done = settings_in_child(READ, unset=("ALLOWED_HOSTS",), **env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_testserver_is_a_default_host_only_in_tests():
    assert "testserver" in _hosts()
    served = _hosts(TESTING="0", DEBUG="true")
    assert "testserver" not in served
    assert "localhost" in served
