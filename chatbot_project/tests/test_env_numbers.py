"""A negative or non-finite number in a numeric setting fails at start with a sentence naming
the variable, as README's Configuration promises for a bad value.

They were taken as they came: MAX_UPLOAD_BYTES=-1 (every upload then 413), SECURE_HSTS_SECONDS=-5
(an invalid Strict-Transport-Security header), JWT_REFRESH_DAYS=-1, INGEST_TIME_LIMIT_SECONDS=-1,
DB_CONN_MAX_AGE=-3, FETCH_TIMEOUT_SECONDS=-1 or nan (a fetch that never times out), and
`manage.py` went on as if nothing were wrong."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from chatbot_project.env import env_float, env_int
from chatbot_project.testing.processes import settings_in_child


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
