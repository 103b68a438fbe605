"""`make run` (any target that installs) on a machine whose python3 is older than 3.11 says so
and how to name another, before making a virtual environment.

README: "fresh machine, only Python 3.11+". The Makefile took python3.11, else whatever python3
is: with an older one it made .venv with it and pip then failed on the first pin needing 3.11
("No matching distribution found"), and .venv stayed behind, made with the wrong Python."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from chatbot_project.testing.processes import BASE_DIR

FAKE = """#!/bin/sh
case "$1" in
  -c) exit 1 ;;
  --version) echo "Python 3.9.2" ;;
  -m) mkdir -p "$3/bin" ;;
esac
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("python", ["old", "missing"])
def test_an_older_or_missing_python_is_named_before_any_venv(tmp_path, python):
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt", "requirements-model.txt"):
        shutil.copy(BASE_DIR / name, tmp_path / name)
    fake = tmp_path / "python3"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    given = str(fake) if python == "old" else str(tmp_path / "nowhere" / "python3")
    done = subprocess.run(
        ["make", "-s", "run", f"PYTHON={given}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    version = "Python 3.9.2" if python == "old" else "no Python"
    assert (
        f"make: this project needs Python 3.11 or newer; PYTHON='{given}' is {version}."
        in done.stderr
    ), done.stderr
    assert "make run PYTHON=/path/to/python3.11" in done.stderr
    assert not (tmp_path / ".venv").exists()
