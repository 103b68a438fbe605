""".env.example, the file the compose recipe copies to .env, against the settings that read it.

Its SECRET_KEY placeholder started a production server (`cp .env.example .env`, then
`docker compose up`) with a key anyone can read, which signs staff JWTs and sessions; and it
says it lists every setting the app reads while seven of them were missing.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

from chatbot_project.env import dotenv_values
from chatbot_project.testing.processes import BASE_DIR, child_env

EXAMPLE = BASE_DIR / ".env.example"
# Read by the tests' own machinery only.
TEST_ONLY = {"TESTING", "TEST_KEEP_REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}


def _settings(**env: str) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    environ = child_env(**env)
    environ.pop("SECRET_KEY_FILE", None)  # a developer's shell may set it; it wins over SECRET_KEY
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR, env=environ, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_example_secret_key_is_refused_in_production():
    placeholder = dotenv_values(EXAMPLE.read_text())["SECRET_KEY"]
    assert placeholder
    done = _settings(SECRET_KEY=placeholder, DEBUG="false")
    assert done.returncode != 0, done.stdout
    assert "ImproperlyConfigured" in done.stderr
    assert "SECRET_KEY is still the placeholder of .env.example" in done.stderr
    # Development (make run sets DEBUG) keeps working with a copied .env.
    done = _settings(SECRET_KEY=placeholder, DEBUG="true")
    assert done.returncode == 0, done.stderr
    done = _settings(SECRET_KEY="x" * 60, DEBUG="false")
    assert done.returncode == 0, done.stderr


def _variables_read(path) -> set[str]:
    """Names given to env_*() and os.environ.get() in ``path``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func, first = node.func, node.args[0]
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        environ = name == "get" and getattr(getattr(func, "value", None), "attr", "") == "environ"
        value = first.value if isinstance(first, ast.Constant) else None
        if (name.startswith("env_") or environ) and isinstance(value, str):
            names.add(value)
    return names


def test_the_example_lists_every_setting_read():
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", EXAMPLE.read_text(), re.MULTILINE))
    read = set()
    # asgi.py: FORWARDED_ALLOW_IPS (the proxy compose puts in front), which it once missed.
    for name in ("settings.py", "settings_services.py", "settings_chat.py", "serve.py", "asgi.py"):
        read |= _variables_read(BASE_DIR / "chatbot_project" / name)
    assert {"SECRET_KEY", "DATABASE_URL", "VISITOR_RATE_LIMIT", "FORWARDED_ALLOW_IPS"} <= read
    assert sorted(read - TEST_ONLY - listed) == []
