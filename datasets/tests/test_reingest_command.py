"""manage.py reingest: documents re-ingested in bulk through the API's service (upgrade path after
a chunker change). Selection is tenant-scoped, --dry-run changes nothing, the service's refusals
are skipped documents counted by reason, bad arguments are one sentence.

Here no worker runs: the tests' transaction never commits, so the Celery tasks the command
queues are captured (``django_capture_on_commit_callbacks``) instead of sent. The --wait run
with a real worker is in test_reingest_command_e2e."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.ingestion import Lease, process_document
from datasets.models import Dataset, Document
from datasets.tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def _dataset(client, name: str) -> str:
    res = client.post("/v1/datasets", {"name": name}, format="json")
    assert res.status_code == 201, res.json()
    return res.json()["id"]


def _ready(client, dataset_id: str, text: str, title: str) -> str:
    res = client.post(
        f"/v1/datasets/{dataset_id}/documents", {"text": text, "title": title}, format="json"
    )
    assert res.status_code == 202, res.json()
    assert process_document(res.json()["id"]) == "ready"
    return res.json()["id"]


@pytest.fixture
def docs(api, other_api):
    """acme: Guides (two documents) and Notes (one); globex: its own Guides (one)."""
    acme_guides, acme_notes = _dataset(api, "Guides"), _dataset(api, "Notes")
    globex_guides = _dataset(other_api, "Guides")
    return {
        "install": _ready(api, acme_guides, "Install it with pip install acme.", "Install"),
        "upgrade": _ready(api, acme_guides, "Upgrade it with pip install -U acme.", "Upgrade"),
        "note": _ready(api, acme_notes, "Lunch is at noon on Fridays.", "Lunch"),
        "globex": _ready(other_api, globex_guides, "Globex opens at nine.", "Opening"),
        "acme_guides": acme_guides,
        "globex_guides": globex_guides,
    }


def _run(*args: str, **opts) -> str:
    out = io.StringIO()
    call_command("reingest", *args, stdout=out, stderr=io.StringIO(), **opts)
    return out.getvalue()


def _statuses(docs) -> dict[str, str]:
    names = [k for k in docs if not k.endswith("_guides")]
    return {name: Document.objects.get(pk=docs[name]).status for name in names}


def test_a_tenant_s_documents_are_queued_and_no_other_tenant_s(
    docs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as tasks:
        out = _run("--tenant", "acme")
    assert _statuses(docs) == {
        "install": "queued", "upgrade": "queued", "note": "queued", "globex": "ready",
    }  # fmt: skip
    assert len(tasks) == 3  # one Celery task each, as the API sends
    lines = out.splitlines()
    assert lines[:3] == [
        "queued   acme/Guides: Install",
        "queued   acme/Guides: Upgrade",
        "queued   acme/Notes: Lunch",
    ]
    assert lines[3].startswith("Queued 3 document(s) for re-ingestion. Answers use each ")
    assert "globex" not in out.lower()
    doc = Document.objects.get(pk=docs["install"])
    assert doc.chunk_count == doc.chunks.count() == 1  # its previous version is kept


def test_dataset_by_name_or_id_within_the_tenant(docs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        out = _run("--tenant", "acme", "--dataset", "Guides")  # globex has a Guides too
    assert _statuses(docs) == {
        "install": "queued", "upgrade": "queued", "note": "ready", "globex": "ready",
    }  # fmt: skip
    assert "Queued 2 document(s)" in out
    Document.objects.update(status=Document.Status.READY)
    with django_capture_on_commit_callbacks():
        out = _run("--tenant", "acme", "--dataset", docs["acme_guides"])
    assert "Queued 2 document(s)" in out


def test_another_tenant_s_dataset_is_not_found(docs):
    for dataset in (docs["globex_guides"], "Nowhere"):
        with pytest.raises(
            CommandError, match=rf"^No dataset '{dataset}' \(name or id\) in tenant 'acme'\.$"
        ):
            _run("--tenant", "acme", "--dataset", dataset)
    assert set(_statuses(docs).values()) == {"ready"}


def test_all_tenants(docs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        out = _run("--all", "--dataset", "Guides")
    assert _statuses(docs) == {
        "install": "queued", "upgrade": "queued", "note": "ready", "globex": "queued",
    }  # fmt: skip
    assert "queued   globex/Guides: Opening" in out


def test_dry_run_changes_nothing(docs, django_capture_on_commit_callbacks):
    before = {d.pk: (d.status, d.updated_at) for d in Document.objects.all()}
    with django_capture_on_commit_callbacks() as tasks:
        out = _run("--tenant", "acme", "--dry-run")
    assert tasks == []
    assert {d.pk: (d.status, d.updated_at) for d in Document.objects.all()} == before
    assert out.splitlines() == [
        "would queue acme/Guides: Install",
        "would queue acme/Guides: Upgrade",
        "would queue acme/Notes: Lunch",
        "3 document(s) would be re-ingested. Nothing was changed (--dry-run).",
    ]


@pytest.mark.parametrize("dry_run", [False, True])
def test_refused_documents_are_skipped_and_counted_by_reason(
    api, tenant, docs, dry_run, django_capture_on_commit_callbacks
):
    """The service's refusals (a document posted before files were stored, a stored file lost
    with a backup, a worker on it), and documents already queued or processing, are skipped
    with the service's sentence; the others are queued; exit status 0."""
    guides = Dataset.objects.get(pk=docs["acme_guides"])
    no_file = DocumentFactory(dataset=guides, title="No file")  # ready, no stored original
    Path(Document.objects.get(pk=docs["upgrade"]).file.path).unlink()
    Document.objects.filter(pk=docs["note"]).update(status=Document.Status.QUEUED)
    in_flight = DocumentFactory(
        dataset=guides, title="In flight", status=Document.Status.PROCESSING, progress=0.5
    )
    busy = _ready(api, docs["acme_guides"], "Backups run at night.", "Backups")
    lease = Lease.acquire(busy)  # a worker just took it (its status not yet `processing`)
    try:
        with django_capture_on_commit_callbacks() as tasks:
            out = _run("--tenant", "acme", *(["--dry-run"] if dry_run else []))
    finally:
        lease.release()
    lines = out.splitlines()
    reasons = "5 skipped (3 already queued or being ingested, 1 no stored original, 1 stored file missing)"  # noqa: E501
    assert lines[-1] == (
        f"1 document(s) would be re-ingested; {reasons}. Nothing was changed (--dry-run)."
        if dry_run
        else f"Queued 1 document(s) for re-ingestion; {reasons}. Answers use each document's "
        "previous version until its new one is ready; follow them in the admin or with "
        "GET /v1/documents/{id}."
    )
    skipped = {line.split("): ")[0] + ")": line for line in lines if line.startswith("skipped")}
    assert skipped[f"skipped  acme/Guides: No file ({no_file.pk})"].endswith(
        "This document has no stored content to re-ingest; post it again."
    )
    assert skipped[f"skipped  acme/Guides: Upgrade ({docs['upgrade']})"].endswith(
        "The stored file is missing, so this document cannot be re-ingested; post the same "
        "content again to restore it (then re-ingest it)."
    )
    for label in (f"In flight ({in_flight.pk})", f"Backups ({busy})"):
        assert f"skipped  acme/Guides: {label}" in skipped
    assert skipped[f"skipped  acme/Guides: Backups ({busy})"].endswith(
        "This document is being ingested right now; re-ingest it once it is ready or failed."
    )
    assert f"skipped  acme/Notes: Lunch ({docs['note']})" in skipped
    assert f"{'would queue' if dry_run else 'queued  '} acme/Guides: Install" in lines
    assert len(tasks) == (0 if dry_run else 1)
    assert Document.objects.get(pk=docs["install"]).status == ("ready" if dry_run else "queued")
    for pk, status in ((no_file.pk, "ready"), (docs["upgrade"], "ready"), (busy, "ready")):
        assert Document.objects.get(pk=pk).status == status
    assert Document.objects.get(pk=in_flight.pk).status == "processing"


def test_nothing_to_do_says_so(tenant):
    assert _run("--tenant", "acme") == "No documents to re-ingest.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), r"^Say whose documents to re-ingest: --tenant SLUG for one tenant, or --all for "
            r"every tenant\.$"),
        (("--tenant", "acme", "--all"), r"^Give --tenant SLUG or --all, not both\.$"),
        (("--tenant", ""), r"^--tenant is empty; give a tenant's slug \(or --all for all\)\.$"),
        (("--all", "--dataset", " "), r"^--dataset is empty; give a name, or leave --dataset out"),
        (("--tenant", "nope"), r"^No tenant 'nope'; see `manage.py create_tenant`\.$"),
        (("--all", "--dataset", "Nowhere"), r"^No dataset 'Nowhere' \(name or id\) in any tenant"),
        (("--all", "--wait", "--timeout", "0"), r"^--timeout 0.0: give a number of seconds above"),
        (("--all", "--wait", "--dry-run"), "argument --dry-run: not allowed with argument --wait"),
        (("--tenant", "a\x00b"), r"^--tenant contains the NUL character"),
    ],
)  # fmt: skip
def test_bad_arguments_are_one_sentence_and_change_nothing(docs, args, message):
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("reingest", *args, stdout=out, stderr=io.StringIO())
    assert out.getvalue() == ""
    assert set(_statuses(docs).values()) == {"ready"}


def test_wait_without_a_worker_gives_up_when_nothing_moves(docs):
    out = io.StringIO()
    with pytest.raises(
        CommandError,
        match=r"^Nothing moved for 1 s with 1 document\(s\) still queued or processing; is a "
        r"worker running \(`make run`\)\? They stay queued: a worker re-ingests them when it "
        r"runs\.$",
    ):
        call_command(
            "reingest", "--all", "--dataset", docs["globex_guides"], "--wait", "--timeout", "1",
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    assert out.getvalue().splitlines()[-1] == (
        "Re-ingested 1 document(s): 0 ready, 0 failed, 1 still queued or processing."
    )
    assert Document.objects.get(pk=docs["globex"]).status == "queued"
