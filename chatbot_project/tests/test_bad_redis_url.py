"""A malformed REDIS_URL stops manage.py, the server and the worker with one sentence naming
it, as a malformed DATABASE_URL does.

Found walking the README's Configuration: `REDIS_URL=notaurl` passed `manage.py check` and the
server started, then every API request was a 500 (the rate limiter's Redis client raised
ValueError) while /v1/health/ready only said "ValueError"."""

from __future__ import annotations

import pytest

from chatbot_project.testing.processes import child_env
from chatbot_project.tests.test_bad_setting_processes import (
    MANAGE,
    SERVER,
    WORKER,
    assert_one_sentence,
    run,
)

REDIS = (
    "ImproperlyConfigured: REDIS_URL is not a valid Redis URL: use "
    "redis://[:<password>@]<host>:<port>/<db> (rediss:// with TLS, or unix:///path/to/redis.sock), "
    "with special characters of the password percent-encoded."
)


@pytest.mark.parametrize(
    "url",
    ["notaurl", "http://cache:6379/0", "redis://:s3cr/et@cache:port/0", "redis://cache:99999/0"],
)
def test_manage_names_a_malformed_redis_url(url):
    assert_one_sentence(run(MANAGE, child_env(REDIS_URL=url)), REDIS)  # no password echoed


@pytest.mark.parametrize("command", [SERVER, WORKER], ids=["server", "worker"])
def test_the_processes_name_a_malformed_redis_url(command):
    assert_one_sentence(run(command, child_env(REDIS_URL="notaurl")), REDIS)


def test_the_forms_redis_takes_are_accepted():
    for url in ("redis://cache:6379/0", "rediss://:pw@cache:6380/2", "unix:///run/redis.sock"):
        done = run(MANAGE, child_env(REDIS_URL=url))
        assert "REDIS_URL" not in done.stderr, (url, done.stderr)
