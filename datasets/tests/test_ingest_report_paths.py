"""ingest's closing report names each document by the file or URL it came from, as its `queued`
line did: it named the title only, so a folder's many `index.md` (or a failed `cmyk-image`
among a hundred PDFs) could be told apart or found only by looking its id up."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_the_report_names_the_files(tenant, tmp_path):
    for folder in ("guide", "api"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "index.md").write_text(f"Plain words about the {folder} pages.")
    (tmp_path / "setup.md").write_text("Run the installer, then the setup.")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="0 refused, 1 failed"):
        call_command(
            "ingest", str(tmp_path), tenant="acme", dataset="Docs", sync=True,
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    report = sorted(line for line in out.getvalue().splitlines() if not line.startswith("queued"))
    assert [line.split(" (")[0].split(":")[0] for line in report] == [
        f"failed   {tmp_path}/scan.pdf",
        f"ready    {tmp_path}/api/index.md",
        f"ready    {tmp_path}/guide/index.md",
        f"ready    {tmp_path}/setup.md",
    ], report
    assert f"ready    {tmp_path}/setup.md (1 chunk)" in report, report  # (title: its name)


def test_a_title_other_than_the_file_name_is_kept_beside_it(tenant, tmp_path):
    from datasets import services

    note = tmp_path / "note.md"
    note.write_text("Lunch is at noon on Fridays.")
    dataset, _ = services.dataset_get_or_create(tenant=tenant, name="Docs")
    services.document_create_from_path(
        tenant=tenant, dataset=dataset, path=note, title="Lunch hours", enqueue=False
    )
    out = io.StringIO()
    call_command(
        "ingest", str(note), tenant="acme", dataset="Docs", sync=True,
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    assert out.getvalue().splitlines()[-1] == f"ready    {note} (Lunch hours) (1 chunk)"
