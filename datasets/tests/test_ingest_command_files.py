"""ingest: a file that cannot be read is refused with a sentence (the other files still go in),
never a traceback; --wait returns when a document is deleted while it waits, instead of waiting
for it until the timeout."""

from __future__ import annotations

import io
import types
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chatbot_project.errors import APIError
from datasets import document_wait, services
from datasets.management.commands import ingest as ingest_command
from datasets.models import Document

pytestmark = pytest.mark.django_db

UNREADABLE = Path("/proc/self/mem")  # a regular file whose first read fails (EIO), even as root


def test_an_unreadable_file_is_refused_with_a_sentence(tenant, tmp_path):
    if not UNREADABLE.is_file():
        pytest.skip("needs Linux /proc")
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nSome text to keep.")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 refused, 0 failed"):
        call_command(
            "ingest", str(UNREADABLE), str(note), tenant="acme", dataset="Inbox",
            stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert "cannot be read (Input/output error)" in err.getvalue()
    assert list(Document.objects.values_list("original_filename", flat=True)) == ["note.md"]


def test_document_create_from_path_names_why_a_file_cannot_be_read(tenant, tmp_path):
    dataset, _ = services.dataset_get_or_create(tenant=tenant, name="Inbox")
    for path in (tmp_path / "gone.md", tmp_path):  # missing; a folder
        with pytest.raises(APIError, match="The file cannot be read"):
            services.document_create_from_path(tenant=tenant, dataset=dataset, path=path)
    assert not Document.objects.exists()


def test_wait_returns_when_a_document_is_deleted_meanwhile(tenant, tmp_path, monkeypatch):
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nDeleted while the command waits for a worker.")

    def sleep(seconds: float) -> None:  # no worker here: someone deletes the document instead
        Document.objects.all().delete()

    clock = types.SimpleNamespace(monotonic=document_wait.time.monotonic, sleep=sleep)
    monkeypatch.setattr(document_wait, "time", clock)
    out = io.StringIO()
    with pytest.raises(CommandError, match="0 refused, 1 failed"):
        call_command(
            "ingest", str(note), tenant="acme", dataset="Inbox", wait=True, timeout=3,
            stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    assert "deleted before its ingestion finished" in out.getvalue()


def test_broken_links_in_a_folder_are_refused_each_with_a_line(tenant, tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "note.md").write_text("# Note\n\nSome text to keep.")
    (folder / "sub" / "gone.md").symlink_to(tmp_path / "deleted.md")
    (folder / "loop.md").symlink_to("loop.md")
    (folder / "sub" / "alias.md").symlink_to("../note.md")  # a working link: same content
    err, out = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="2 refused, 0 failed"):
        call_command(
            "ingest", str(folder), tenant="acme", dataset="Inbox", stdout=out, stderr=err
        )  # fmt: skip
    lines = err.getvalue().splitlines()
    gone = f"refused  {folder / 'sub' / 'gone.md'}: it is a symbolic link to {tmp_path}/deleted.md"
    assert any(line.startswith(gone) and "does not exist" in line for line in lines), lines
    loop = f"refused  {folder / 'loop.md'}: it is a symbolic link to loop.md that leads back"
    assert any(line.startswith(loop) for line in lines), lines
    assert list(Document.objects.values_list("original_filename", flat=True)) == ["note.md"]
    assert "exists " in out.getvalue()  # the working link: the same content as note.md


def test_a_broken_link_named_on_the_command_line_is_refused_with_a_line(tenant, tmp_path):
    link = tmp_path / "report.pdf"
    link.symlink_to(tmp_path / "missing.pdf")
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nSome text to keep.")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 refused, 0 failed"):
        call_command(
            "ingest", str(link), str(note), tenant="acme", dataset="Inbox",
            stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert f"refused  {link}: it is a symbolic link to {tmp_path}/missing.pdf" in err.getvalue()
    assert Document.objects.count() == 1


def test_urls_are_recognised_whatever_the_case_of_their_scheme():
    """`ingest HTTP://...` was read as a path: "neither a file, a folder nor an http(s) URL"."""
    urls = ["HTTP://example.com/a", "Https://example.com/b", "https://example.com/c"]
    assert ingest_command.expand(urls) == urls


@pytest.mark.parametrize("tags", ["a,,b", "a,", " , "])
def test_blank_tags_are_refused_before_anything_is_uploaded(tenant, tmp_path, tags):
    """--tags dropped blank items silently; the API refuses them (datasets/document_input)."""
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nSome text to keep.")
    args = ["ingest", "--tenant", tenant.slug, "--dataset", "d", "--tags", tags, str(note)]
    with pytest.raises(CommandError, match=r"^--tags: A tag cannot be empty"):
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not Document.objects.exists()
    call_command(*args[:5], "--tags", "a, b", str(note), stdout=io.StringIO(), stderr=io.StringIO())
    assert Document.objects.get().tags == ["a", "b"]
