"""Schemathesis against the live API's own schema (`/v1/schema`), as two tenants in turn.

A real server process and a real Celery worker run on the test database with the offline
extractive model. Tenant A and tenant B each get, through the API, a dataset with a text
document, a scope, a bot and a conversation, all carrying canary strings. Then Schemathesis
(``--mode all``: valid and invalid data; checks: no 5xx, status codes, content types, headers
and bodies conforming to the schema, negative data rejected, 405 for undeclared methods,
deleted objects gone, auth not ignored, ...) fuzzes every operation with B's admin key while
probing A's ids, and again with A's key probing B's, plus our custom check
``no_cross_tenant_access`` (``hardening/st_hooks.py``).

Run by ``make hardening`` (``-m hardening``); a plain ``pytest`` skips it. Figures are printed and
written to ``.data/hardening/schemathesis-<test database>/`` (JSON, JUnit, log per run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from chatbot_project.testing.processes import child_env, start_worker, stop, wait_for_worker
from hardening.tests.support import Seeded, live_server, offline_env, process_env, seed_tenant

pytestmark = [
    pytest.mark.hardening,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(1500),
]

BASE_DIR = Path(settings.BASE_DIR)
REPORT_DIR = BASE_DIR / ".data" / "hardening"
MAX_EXAMPLES = os.environ.get("HARDENING_MAX_EXAMPLES", "50")
MAX_TIME = os.environ.get("HARDENING_MAX_TIME")  # seconds per run, optional
EXCLUDE_CHECKS = os.environ.get("HARDENING_EXCLUDE_CHECKS")
# Every response check except `positive_data_acceptance`: a schema-valid body may still name an
# id that does not exist in the tenant, and 400 is the right answer to that.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "no_cross_tenant_access",
]


def _schemathesis() -> list[str]:
    exe = Path(sys.executable).parent / "schemathesis"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


def run_schemathesis(base: str, me: Seeded, other: Seeded, tag: str, out: Path) -> dict:
    report = out / f"schemathesis-{tag}.json"
    junit = out / f"schemathesis-{tag}.xml"
    context = {
        "own": me.ids,
        "foreign": other.ids,
        "foreign_canaries": [other.canary, other.key],
    }
    cmd = [
        *_schemathesis(),
        "run",
        f"{base}/v1/schema",
        "--url",
        base,
        "--checks",
        ",".join(CHECKS),
        "--mode",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "7",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {me.key}",
        "--report",
        "json,junit",
        "--report-json-path",
        str(report),
        "--report-junit-path",
        str(junit),
        "--suppress-health-check",
        "all",
        "--output-truncate",
        "false",
    ]
    if MAX_TIME:
        cmd += ["--max-time", MAX_TIME]
    if EXCLUDE_CHECKS:  # exploration only: see what else fails behind one kind of failure
        cmd += ["--exclude-checks", EXCLUDE_CHECKS]
    env = child_env(
        SCHEMATHESIS_HOOKS="hardening.st_hooks",
        HARDENING_ST_CONTEXT=json.dumps(context),
        PYTHONPATH=str(BASE_DIR),
        NO_COLOR="1",
    )
    # cwd: Schemathesis keeps a cache folder (.schemathesis/) where it runs; keep it out of git.
    proc = subprocess.run(cmd, cwd=out, env=env, capture_output=True, text=True)
    (out / f"schemathesis-{tag}.log").write_text(proc.stdout + proc.stderr)
    result = json.loads(report.read_text()) if report.exists() else {}
    result["_rc"] = proc.returncode
    result["_tail"] = (proc.stdout + proc.stderr)[-6000:]
    return result


def test_schemathesis_two_tenants_no_5xx_conformant_no_cross_tenant_access():
    # One folder per test database, so parallel runs (other checkouts' tests) never mix reports.
    out = REPORT_DIR / f"schemathesis-{settings.DATABASES['default']['NAME']}"
    out.mkdir(parents=True, exist_ok=True)
    env = offline_env()
    worker = start_worker(name="fuzz", **process_env(**env))
    try:
        with live_server(**env) as base:
            wait_for_worker()
            tenant_a = seed_tenant(base, "a")
            tenant_b = seed_tenant(base, "b")
            runs = {
                "as-b-probing-a": run_schemathesis(base, tenant_b, tenant_a, "as-b", out),
                "as-a-probing-b": run_schemathesis(base, tenant_a, tenant_b, "as-a", out),
            }
    finally:
        stop(worker)
    total = 0
    problems = []
    for name, result in runs.items():
        cases = (result.get("test_cases") or {}).get("generated", 0)
        total += cases
        ops = result.get("operations") or {}
        failures = result.get("failures") or []
        errors = result.get("errors") or []
        print(
            f"schemathesis {name}: {cases} cases, operations tested {ops.get('tested')}/"
            f"{ops.get('selected')}, failures {sum(f['count'] for f in failures)}, "
            f"errors {len(errors)}, exit {result['_rc']}"
        )
        for failure in failures:
            print(f"  FAIL {failure['title']} x{failure['count']}: {failure['operations'][:6]}")
        for error in errors:
            print(f"  ERROR {error['title']} x{error['count']}")
        if result["_rc"] != 0 or failures or errors or not cases:
            problems.append(f"{name}: exit {result['_rc']}\n{result['_tail']}")
    print(f"schemathesis total cases: {total}")
    assert not problems, "\n\n".join(problems)
