"""Typed environment helpers that fail loudly (ImproperlyConfigured) and accept ``<NAME>_FILE``."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    file_var = os.environ.get(f"{name}_FILE")
    if file_var:
        try:
            return Path(file_var).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_var!r} cannot be read: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = _raw(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default if default is not None else ""
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false).")


# Every number read from the environment is a size, count, port or duration: none is negative
# (MAX_UPLOAD_BYTES=-1 refused every upload, SECURE_HSTS_SECONDS=-5 sent an invalid header,
# FETCH_TIMEOUT_SECONDS=nan never timed out), so 0 is the least unless a call says otherwise.


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        out = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from exc
    if out < minimum:
        raise ImproperlyConfigured(f"{name}={out} must be >= {minimum}.")
    if maximum is not None and out > maximum:
        raise ImproperlyConfigured(f"{name}={out} must be <= {maximum}.")
    return out


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        out = float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from exc
    if not math.isfinite(out):
        raise ImproperlyConfigured(f"{name}={value!r} is not a finite number.")
    if out < minimum:
        raise ImproperlyConfigured(f"{name}={value.strip()} must be >= {minimum:g}.")
    return out


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_log_level(name: str, default: str) -> str:
    """A logging level, in any letter case (``debug`` too). Anything else is a sentence naming
    the variable: logging's dictConfig ended Django's start in a traceback ("Unable to configure
    root logger"), for ``LOG_LEVEL=debug`` as well."""
    value = env_str(name, default).strip().upper()
    if value not in _LOG_LEVELS:
        raise ImproperlyConfigured(
            f"{name}={_raw(name)!r} is not a logging level; use one of {', '.join(_LOG_LEVELS)}."
        )
    return value


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {sorted(choices)}.")
    return value


RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_limit_parts(value: str) -> tuple[int, int] | None:
    """``"60/m"`` -> (60, 60): the count and the window in seconds; None when ``value`` is not
    ``<count>/<s|m|h|d>`` with a count of at least 1 (``apikeys.ratelimit.parse_limit``)."""
    count, _, unit = value.strip().partition("/")
    # isascii: str.isdigit() and int() also take other scripts' digits ("５/m", "٣/m").
    if unit not in RATE_UNITS or not (count.isascii() and count.isdigit()) or int(count) < 1:
        return None
    return int(count), RATE_UNITS[unit]


def env_rate_limit(name: str, default: str, *, empty_is_off: bool = False) -> str:
    """A rate limit such as ``60/m``; a bad one fails at start (it used to fail every request
    counted against it with a 500). ``empty_is_off``: set but empty means no limit ("")."""
    value = _raw(name)
    if value is None or not value.strip():
        return "" if value is not None and empty_is_off else default
    value = value.strip()
    if rate_limit_parts(value) is None:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate limit; use <count>/<s|m|h|d> with a count of at "
            "least 1, e.g. 60/m" + (", or set it empty for none." if empty_is_off else ".")
        )
    return value


def load_settings_or_exit() -> None:
    """Load Django's settings now, in a process's entry point (manage.py, serve, the Celery
    worker): a bad environment variable exits 1 with its sentence alone, "ImproperlyConfigured:
    <sentence>", instead of a traceback. Loaded once: after a failed first import Django imports
    the settings again, and the first had already put the embedded server's DATABASE_URL into
    the environment, so the second no longer counted as local development and reported a missing
    SECRET_KEY instead of the variable that is wrong."""
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 (loads the settings, once)
    except ImproperlyConfigured as exc:
        raise SystemExit(f"ImproperlyConfigured: {exc}") from None


def dotenv_values(text: str) -> dict[str, str]:
    """``NAME=value`` lines of a ``.env`` file as docker compose reads them (the same file
    serves both): blank lines and ``#`` lines skipped, an optional ``export``, a value in
    matching quotes taken as it is, and an unquoted value cut at a ``#`` that follows
    whitespace (a trailing comment; a value of spaces then ``# ...`` is empty). `.env.example`
    comments its lines so: copied to `.env`, `DEBUG=false   # ...` was the value
    "false   # ...", and `DATABASE_URL=   # postgresql://...` a database URL."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        name = name.strip()
        if name.startswith("export "):
            name = name[len("export ") :].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
            value = value[1:-1]
        elif value.startswith("#"):
            value = ""
        else:
            for index, char in enumerate(value):
                if char == "#" and value[index - 1] in " \t":
                    value = value[:index].rstrip()
                    break
        values[name] = value
    return values


def running_tests() -> bool:
    """Whether this process runs the tests: pytest is imported, or TESTING is set (settings'
    ``TESTING``)."""
    return "pytest" in sys.modules or env_bool("TESTING", False)
