"""Which of our pinned versions are yanked (PEP 592) on the package index, asked through pip.

``pip install --dry-run --no-deps --ignore-installed --report`` resolves each ``name==version``
against the index pip is configured with and marks every chosen file ``is_yanked``; its warning
on stderr carries the reason. This needs the index (it is the one check here that is not
offline); metadata comes from pip's cache or PEP 658 files, nothing is installed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from packaging.utils import canonicalize_name

_REASON = re.compile(
    r"yanked version: '(?P<name>[^']+)' candidate \(version (?P<version>\S+) .*?\)\s*\n"
    r"Reason for being yanked: (?P<reason>[^\n]*)"
)

_PIP_ARGS = ["--dry-run", "--no-deps", "--ignore-installed", "--quiet",
             "--disable-pip-version-check", "--timeout", "30", "--retries", "2"]  # fmt: skip


def rounds(versions: Mapping[str, set[str]]) -> list[dict[str, str]]:
    """Split ``package -> versions`` into sets of pins pip can resolve at once (one per name)."""
    out: list[dict[str, str]] = []
    for name, found in sorted(versions.items()):
        for i, version in enumerate(sorted(found)):
            if len(out) <= i:
                out.append({})
            out[i][name] = version
    return out


def parse_report(report: Mapping, stderr: str) -> dict[tuple[str, str], str]:
    """``(package, version) -> reason`` for every item of a pip report that is yanked."""
    reasons = {
        (canonicalize_name(m["name"]), m["version"]): m["reason"].strip()
        for m in _REASON.finditer(stderr)
    }
    out = {}
    for item in report.get("install", ()):
        if item.get("is_yanked"):
            key = (canonicalize_name(item["metadata"]["name"]), item["metadata"]["version"])
            out[key] = reasons.get(key) or "no reason given"
    return out


def check(versions: Mapping[str, set[str]], timeout: float = 600) -> tuple[dict, list[str]]:
    """(yanked ``(package, version) -> reason``, errors); errors mean the check did not finish."""
    yanked: dict[tuple[str, str], str] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="yanked-") as tmp:
        for n, pins in enumerate(rounds(versions)):
            reqs = Path(tmp, f"pins{n}.txt")
            reqs.write_text("".join(f"{name}=={v}\n" for name, v in pins.items()))
            report = Path(tmp, f"report{n}.json")
            cmd = [sys.executable, "-m", "pip", "install", *_PIP_ARGS, "--report", str(report)]
            cmd += ["-r", str(reqs)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                errors.append(f"pip did not answer within {timeout:.0f} s")
                continue
            if proc.returncode != 0 or not report.exists():
                tail = [ln for ln in proc.stderr.splitlines() if "is ignored" not in ln][-3:]
                errors.append(f"pip exit {proc.returncode}: " + " | ".join(tail))
                continue
            yanked.update(parse_report(json.loads(report.read_text()), proc.stderr))
    return yanked, errors
