"""ingest prints one line per file, with no blank line after each: the per-file lines went
through tqdm.write, which ends the line itself, into Django's OutputWrapper, which ended it
again (`exists   a.md -> <id>`, an empty line, `queued   b.md -> <id>`, an empty line, ...)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_each_file_is_one_line_with_no_blank_line_after_it(tenant, tmp_path):
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(f"# {name}\n\nSome text about {name}.")
    link = tmp_path / "gone.md"
    link.symlink_to(tmp_path / "deleted.md")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 refused, 0 failed"):
        call_command(
            "ingest", str(tmp_path / "a.md"), str(tmp_path / "b.md"), str(link),
            tenant="acme", dataset="Inbox", stdout=out, stderr=err,
        )  # fmt: skip
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["queued", "queued"], lines
    assert "" not in lines, out.getvalue()
    refused = [line for line in err.getvalue().splitlines() if "refused" in line]
    assert len(refused) == 1, err.getvalue()
    assert "\n\n" not in err.getvalue(), err.getvalue()
