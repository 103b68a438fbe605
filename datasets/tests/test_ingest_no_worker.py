"""ingest and reingest as an operator meets them without a running worker, or with a folder that
holds nothing to ingest.

- `ingest ... ./handbook/ --wait` with an empty folder (mistyped, not filled yet, or only hidden
  files) printed "Created dataset 'Handbook'." and exited 0 having ingested nothing.
- `ingest --wait` / `reingest --wait` with no Celery worker (README's step by step runs the
  commands "`make run` or not") showed a progress bar stuck at 0 without a word until the
  timeout: an hour for ingest. They now say at once that no worker answered and what to do.
- A new dataset where every item was refused stayed behind, empty; it is removed now.

No worker runs in these tests (the documents' tasks are never sent: the test's transaction does
not commit), so the ping finds none."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets import services
from datasets.ingestion import process_document
from datasets.models import Dataset, Document

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("hidden", [False, True])
def test_a_folder_with_no_files_is_refused_and_makes_no_dataset(tenant, tmp_path, hidden):
    folder = tmp_path / "handbook"
    (folder / "drafts").mkdir(parents=True)
    if hidden:
        (folder / ".notes.md").write_text("# Hidden\n\nSkipped.")
        (folder / ".git").mkdir()
        (folder / ".git" / "HEAD").write_text("ref: refs/heads/main")
    with pytest.raises(CommandError, match=r"handbook/ is a folder with no files to ingest"):
        call_command(
            "ingest", f"{folder}/", tenant="acme", dataset="Handbook", wait=True,
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert not Dataset.objects.exists()


def test_a_folder_with_files_beside_an_empty_one_is_still_refused(tenant, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.md").write_text("# A\n\nText.")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match=r"empty is a folder with no files"):
        call_command(
            "ingest", str(tmp_path / "full"), str(tmp_path / "empty"), tenant="acme",
            dataset="Handbook", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert not Document.objects.exists()


def test_ingest_wait_says_at_once_that_no_worker_answers(tenant, tmp_path):
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nQueued with nobody to ingest it.")
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"^Nothing moved for 1 s with 1 document\(s\) still"):
        call_command(
            "ingest", str(note), tenant="acme", dataset="Inbox", wait=True, timeout=1,
            stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert "No Celery worker answered a ping" in err.getvalue()
    assert (
        "--sync processes them in this command instead. Waiting while they move, up to 1 s "
        "without progress (--timeout)." in err.getvalue()
    )


def test_ingest_wait_says_nothing_of_workers_when_nothing_waits(tenant, tmp_path):
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nAlready ingested.")
    call_command(
        "ingest",
        str(note),
        tenant="acme",
        dataset="Inbox",
        sync=True,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    err = io.StringIO()
    call_command(
        "ingest", str(note), tenant="acme", dataset="Inbox", wait=True, timeout=1,
        stdout=io.StringIO(), stderr=err,
    )  # fmt: skip
    assert "worker" not in err.getvalue()


def test_reingest_wait_says_at_once_that_no_worker_answers(api):
    dataset = api.post("/v1/datasets", {"name": "Guides"}, format="json").json()["id"]
    res = api.post(
        f"/v1/datasets/{dataset}/documents", {"text": "Install it.", "title": "Install"},
        format="json",
    )  # fmt: skip
    assert process_document(res.json()["id"]) == "ready"
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing moved for 1 s"):
        call_command(
            "reingest", "--tenant", "acme", "--wait", "--timeout", "1",
            stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert "No Celery worker answered a ping" in err.getvalue()


def test_wait_gives_up_only_when_nothing_moves(tenant, tmp_path, monkeypatch):
    """--timeout counts from the last progress, as reingest's does: it was a deadline for the
    whole wait, so a corpus taking longer than it failed while the workers were busy with it
    ("Timed out waiting; is a worker running?")."""
    import types

    from datasets import document_wait

    note = tmp_path / "note.md"
    note.write_text("# Note\n\nA long ingestion that keeps moving.")
    now = [0.0]

    def sleep(seconds: float) -> None:  # a worker moving on by a tenth every 10 s
        now[0] += 10
        doc = Document.objects.get()
        if doc.progress >= 0.5:
            Document.objects.filter(pk=doc.pk).update(status="failed", error="Stopped here.")
        else:
            Document.objects.filter(pk=doc.pk).update(
                status="processing", progress=doc.progress + 0.1
            )

    clock = types.SimpleNamespace(monotonic=lambda: now[0], sleep=sleep)
    monkeypatch.setattr(document_wait, "time", clock)
    monkeypatch.setattr(document_wait, "worker_answers", lambda: True)
    out = io.StringIO()
    with pytest.raises(CommandError, match="0 refused, 1 failed"):  # ended, not timed out
        call_command(
            "ingest", str(note), tenant="acme", dataset="Inbox", wait=True, timeout=15,
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    assert now[0] > 15
    assert out.getvalue().splitlines()[-1] == f"failed   {note}: Stopped here."


@pytest.mark.parametrize("kind", ["url", "file"])
def test_a_new_dataset_where_everything_is_refused_is_not_left_behind(tenant, tmp_path, kind):
    """Only a refused URL (a private address) or only files refused at upload left the dataset
    the command had just created behind, empty."""
    image = tmp_path / "image.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    target = "http://127.0.0.1:9/page" if kind == "url" else str(image)
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 refused, 0 failed"):
        call_command(
            "ingest", target, tenant="acme", dataset="Fresh", stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert not Dataset.objects.exists()
    assert "Removed the new dataset 'Fresh': nothing was accepted into it." in err.getvalue()


def test_a_dataset_that_existed_stays_when_everything_is_refused(tenant, tmp_path):
    services.dataset_get_or_create(tenant=tenant, name="Kept")
    image = tmp_path / "image.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    with pytest.raises(CommandError, match="1 refused, 0 failed"):
        call_command(
            "ingest", str(image), tenant="acme", dataset="Kept",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert list(Dataset.objects.values_list("name", flat=True)) == ["Kept"]
