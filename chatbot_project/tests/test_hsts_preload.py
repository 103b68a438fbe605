"""HSTS `preload` is the operator's opt-in (SECURE_HSTS_PRELOAD), not a production default.

Preload lets the domain be submitted to browsers' built-in HSTS lists, after which every
subdomain is HTTPS-only in those browsers whatever the server says (a plain-HTTP subdomain
breaks; leaving the lists takes months). Production settings set it unconditionally (privacy
and hardening review). ``check --deploy --fail-level WARNING`` (``make hardening``) stays clean
either way.
"""

from __future__ import annotations

import secrets
import subprocess
import sys

from chatbot_project.testing.processes import BASE_DIR, child_env, settings_in_child

READ = (
    "from django.conf import settings; "
    "print(settings.SECURE_HSTS_PRELOAD, settings.SECURE_HSTS_SECONDS > 0)"
)


def _production(**env: str) -> dict[str, str]:
    return dict(
        DEBUG="false", TESTING="0", ALLOWED_HOSTS="example.com",
        SECRET_KEY=secrets.token_urlsafe(50), **env,
    )  # fmt: skip


def _preload(**env: str) -> str:
    unset = () if env else ("SECURE_HSTS_PRELOAD",)  # (a developer's own environment)
    done = settings_in_child(READ, unset=unset, **_production(**env))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _deploy_check(**env: str) -> subprocess.CompletedProcess:
    environment = child_env(**_production(**env))
    if "SECURE_HSTS_PRELOAD" not in env:
        environment.pop("SECURE_HSTS_PRELOAD", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_preload_is_off_unless_asked_for():
    assert _preload() == "False True"
    assert _preload(SECURE_HSTS_PRELOAD="true") == "True True"
    assert _preload(SECURE_HSTS_PRELOAD="false") == "False True"


def test_deploy_check_is_clean_with_and_without_preload():
    for env in ({}, {"SECURE_HSTS_PRELOAD": "true"}):
        done = _deploy_check(**env)
        assert done.returncode == 0, (env, done.stdout + done.stderr)
        assert "W021" not in done.stdout + done.stderr
