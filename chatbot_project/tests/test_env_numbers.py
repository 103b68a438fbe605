"""A negative or non-finite number in a numeric setting fails at start with a sentence naming
the variable, as README's Configuration promises for a bad value.

They were taken as they came: MAX_UPLOAD_BYTES=-1 (every upload then 413), SECURE_HSTS_SECONDS=-5
(an invalid Strict-Transport-Security header), JWT_REFRESH_DAYS=-1, INGEST_TIME_LIMIT_SECONDS=-1,
DB_CONN_MAX_AGE=-3, FETCH_TIMEOUT_SECONDS=-1 or nan (a fetch that never times out), and
`manage.py` went on as if nothing were wrong."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from chatbot_project.env import env_float, env_int
from chatbot_project.testing.processes import BASE_DIR, child_env, settings_in_child


@pytest.mark.parametrize(
    ("value", "sentence"),
    [("-1", "N=-1 must be >= 0."), ("abc", "N='abc' is not an integer.")],
)
def test_env_int_refuses_a_negative_number(monkeypatch, value, sentence):
    monkeypatch.setenv("N", value)
    with pytest.raises(ImproperlyConfigured) as caught:
        env_int("N", 5)
    assert str(caught.value) == sentence


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ("-0.5", "N=-0.5 must be >= 0."),
        ("nan", "N='nan' is not a finite number."),
        ("inf", "N='inf' is not a finite number."),
        ("-Infinity", "N='-Infinity' is not a finite number."),
    ],
)
def test_env_float_refuses_a_negative_or_non_finite_number(monkeypatch, value, sentence):
    monkeypatch.setenv("N", value)
    with pytest.raises(ImproperlyConfigured) as caught:
        env_float("N", 1.0)
    assert str(caught.value) == sentence


def test_zero_and_the_given_minimum_still_hold(monkeypatch):
    monkeypatch.setenv("N", "0")
    assert env_int("N", 5) == 0
    assert env_float("N", 1.0) == 0.0
    with pytest.raises(ImproperlyConfigured, match=r"^N=0 must be >= 1\.$"):
        env_int("N", 5, minimum=1)
    monkeypatch.setenv("N", " 2.5 ")
    assert env_float("N", 1.0) == 2.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_UPLOAD_BYTES", "-1"),
        ("JWT_REFRESH_DAYS", "-1"),
        ("INGEST_TIME_LIMIT_SECONDS", "-1"),
        ("FETCH_TIMEOUT_SECONDS", "nan"),
    ],
)
def test_settings_refuse_them_at_start(name, value):
    done = settings_in_child("print('started')", DEBUG="true", **{name: value})
    assert done.returncode != 0
    assert "started" not in done.stdout
    assert f"ImproperlyConfigured: {name}=" in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        # make run ended in a bind() traceback (OverflowError: port must be 0-65535).
        ("PORT", "99999", "ImproperlyConfigured: PORT=99999 must be <= 65535."),
        # logging's dictConfig ended the start in a traceback ("Unable to configure root logger").
        (
            "LOG_LEVEL",
            "LOUD",
            "ImproperlyConfigured: LOG_LEVEL='LOUD' is not a logging level; use one of DEBUG, "
            "INFO, WARNING, ERROR, CRITICAL.",
        ),
    ],
)
def test_a_port_or_log_level_out_of_range_is_one_sentence(name, value, sentence):
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR, env=child_env(DEBUG="true", **{name: value}),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == sentence


def test_a_log_level_in_lower_case_is_taken():
    done = settings_in_child(
        "import logging; print(logging.getLevelName(logging.getLogger().level))",
        DEBUG="true", LOG_LEVEL="warning",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "WARNING"


def test_a_pool_minimum_above_its_maximum_is_one_sentence():
    """DB_POOL_MIN=50 with DB_POOL_MAX's default 40 ended every command in psycopg_pool's
    traceback ("ValueError: max_size must be greater or equal than min_size")."""
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR, env=child_env(DEBUG="true", DB_POOL_MIN="50"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "ImproperlyConfigured: DB_POOL_MIN=50 is above DB_POOL_MAX=40; lower it or raise "
        "DB_POOL_MAX."
    )
