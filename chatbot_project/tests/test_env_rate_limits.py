"""RATE_LIMIT_DEFAULT and VISITOR_RATE_LIMIT are checked when the settings load.

A bad RATE_LIMIT_DEFAULT ("fast") started cleanly and then answered every request of a key
without its own limit with a 500; VISITOR_RATE_LIMIT set empty ("off", README) kept 30/m, and
a bad one fell back to RATE_LIMIT_DEFAULT without a word.
"""

from __future__ import annotations

import subprocess

import pytest

from chatbot_project.testing.processes import settings_in_child

READ = "from django.conf import settings; print(settings.RATE_LIMIT_DEFAULT, repr(settings.VISITOR_RATE_LIMIT))"  # noqa: E501


def _settings(**env: str) -> subprocess.CompletedProcess:
    return settings_in_child(READ, **env)


@pytest.mark.parametrize(
    ("name", "value"),
    [("RATE_LIMIT_DEFAULT", "fast"), ("RATE_LIMIT_DEFAULT", "0/m"), ("VISITOR_RATE_LIMIT", "30")],
)
def test_a_bad_limit_fails_at_start_naming_the_variable(name, value):
    done = _settings(**{name: value})
    assert done.returncode != 0, done.stdout
    assert "ImproperlyConfigured" in done.stderr
    assert f"{name}={value!r} is not a rate limit" in done.stderr


def test_limits_given_and_visitor_limit_turned_off():
    done = _settings(RATE_LIMIT_DEFAULT=" 600/h ", VISITOR_RATE_LIMIT="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["600/h", "''"]
    done = _settings(VISITOR_RATE_LIMIT="5/m")
    assert done.stdout.split()[1] == "'5/m'"
