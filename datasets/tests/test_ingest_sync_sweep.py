"""`manage.py ingest --sync` with a worker running: the workers' sweep leaves its documents alone.

The sweep (datasets.recovery) re-queues `queued` documents older than a lease whose task is not
on its way. --sync creates every document first, without a task, then processes them one by
one, so in a long batch the later ones waited longer than a lease and a worker's sweep sent
them to the workers: the command was then skipped ("another worker holds the document") and
reported them still `processing`. The command marks them as on their way (its own run).
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from datasets import recovery
from datasets.management.commands.ingest import Command
from datasets.models import Document

pytestmark = pytest.mark.django_db


def test_the_sweep_leaves_a_sync_batch_to_the_command(tenant, tmp_path, monkeypatch):
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text(f"# {name}\n\nReturns are accepted within 30 days.\n")
    swept: list[int] = []
    real = Command._process

    def process(doc):  # a worker's sweep runs while the batch waits its turn
        Document.objects.update(updated_at=timezone.now() - timedelta(hours=1))
        swept.append(recovery.sweep())
        real(doc)

    monkeypatch.setattr(Command, "_process", staticmethod(process))
    out = io.StringIO()
    call_command(
        "ingest", str(tmp_path), tenant="acme", dataset="Sync", sync=True, stdout=out,
        stderr=io.StringIO(),
    )  # fmt: skip
    assert swept == [0, 0]
    assert set(Document.objects.values_list("status", flat=True)) == {"ready"}
