"""manage.py reingest --all leaves suspended tenants out unless --include-suspended.

Repro (operator notes): `reingest --all` queued the documents of suspended tenants too (their keys
and users are refused), spending the workers on documents nobody can read, and said nothing.
Now --all skips them and names them; --include-suspended takes them; --tenant SLUG takes the
tenant it names, suspended or not.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.ingestion import process_document
from datasets.models import Document
from tenants.services import tenant_deactivate

pytestmark = pytest.mark.django_db


def _ready(client, name: str, text: str) -> str:
    dataset_id = client.post("/v1/datasets", {"name": name}, format="json").json()["id"]
    res = client.post(
        f"/v1/datasets/{dataset_id}/documents", {"text": text, "title": name}, format="json"
    )
    assert process_document(res.json()["id"]) == "ready"
    return res.json()["id"]


@pytest.fixture
def docs(api, other_api, other_tenant):
    out = {
        "acme": _ready(api, "Guides", "Install it with pip install acme."),
        "globex": _ready(other_api, "Guides", "Globex opens at nine."),
    }
    tenant_deactivate(tenant=other_tenant)
    return out


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("reingest", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _statuses(docs) -> dict[str, str]:
    return {name: Document.objects.get(pk=pk).status for name, pk in docs.items()}


def test_all_skips_suspended_tenants_and_says_so(docs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        out = _run("--all")
    assert _statuses(docs) == {"acme": "queued", "globex": "ready"}
    assert out.splitlines()[0] == (
        "Skipped suspended tenant(s) globex: --include-suspended re-ingests their documents too."
    )
    assert "globex/" not in out


def test_dry_run_says_so_too(docs, django_capture_on_commit_callbacks):
    out = _run("--all", "--dry-run")
    assert "Skipped suspended tenant(s) globex" in out
    assert "would queue acme/Guides: Guides" in out
    assert "globex/Guides" not in out


def test_include_suspended_takes_them(docs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        out = _run("--all", "--include-suspended")
    assert _statuses(docs) == {"acme": "queued", "globex": "queued"}
    assert "Skipped suspended" not in out


def test_a_named_suspended_tenant_is_re_ingested(docs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        _run("--tenant", "globex")
    assert _statuses(docs) == {"acme": "ready", "globex": "queued"}


def test_include_suspended_needs_all(docs):
    with pytest.raises(CommandError, match=r"^--include-suspended goes with --all"):
        _run("--tenant", "acme", "--include-suspended")
