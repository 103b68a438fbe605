"""manage.py reingest --wait with a real Celery worker: a document ingested with an older chunk
layout (one chunk per small section, as before datasets/chunk_packing.py) gets the current
chunker's chunks; a document that fails again is reported with its error sentence and makes the
exit status non-zero; another tenant's document is never touched."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from chatbot_project.testing.processes import start_worker, stop, wait_for_worker
from datasets.ingestion import process_document
from datasets.models import Chunk, Dataset, Document
from datasets.tests.factories import ChunkFactory, DocumentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GUIDE = b"""# Guide

## Install

Install the package with pip install acme.

## Configure

Set ACME_HOME to the folder that holds your projects.

## Run

Start the service with acme serve and open the page it prints.
"""


def _upload(client, dataset_id: str, name: str, content: bytes) -> str:
    upload = SimpleUploadedFile(name, content)
    res = client.post(f"/v1/datasets/{dataset_id}/documents", {"file": upload}, format="multipart")
    assert res.status_code == 202, res.json()
    return res.json()["id"]


def _texts(doc_id: str) -> list[str]:
    return list(
        Chunk.objects.filter(document_id=doc_id).order_by("index").values_list("text", flat=True)
    )


def test_reingest_wait_rechunks_old_layouts_and_reports_failures(api, other_api, corpus, tmp_path):
    ds = api.post("/v1/datasets", {"name": "Guides"}, format="json").json()["id"]
    guide = _upload(api, ds, "guide.md", GUIDE)
    broken = _upload(
        api, ds, "broken.pdf", (corpus / "pdf" / "multicolumn.pdf").read_bytes()[:3000]
    )
    other_ds = other_api.post("/v1/datasets", {"name": "Guides"}, format="json").json()["id"]
    other = _upload(other_api, other_ds, "guide.md", GUIDE)
    for doc_id, status in ((guide, "ready"), (broken, "failed"), (other, "ready")):
        assert process_document(doc_id) == status  # in this process, before any worker runs
    current = _texts(guide)
    assert len(current) == 1  # the three small sections share one chunk now

    # The layout of an older chunker: one chunk per section. (Its other documents keep theirs.)
    Chunk.objects.filter(document_id=guide).delete()
    doc = Document.objects.get(pk=guide)
    old = [
        ChunkFactory(document=doc, index=i, text=f"Guide > {name}\n\n{name} it.", embed=True)
        for i, name in enumerate(("Install", "Configure", "Run"))
    ]
    Document.objects.filter(pk=guide).update(chunk_count=3)
    no_file = DocumentFactory(dataset=Dataset.objects.get(pk=ds), title="Pasted long ago")
    other_before = Document.objects.filter(pk=other).values().get()
    other_chunks = list(Chunk.objects.filter(document_id=other).values_list("id", flat=True))

    proc = start_worker(
        name="reingest-e2e", log_path=tmp_path / "worker.log", MEDIA_ROOT=settings.MEDIA_ROOT
    )
    out = io.StringIO()
    try:
        wait_for_worker(60)
        with pytest.raises(CommandError, match=r"^1 of 2 re-ingests failed \(above\)\.$"):
            call_command(
                "reingest", "--tenant", "acme", "--wait", "--timeout", "120",
                stdout=out, stderr=io.StringIO(),
            )  # fmt: skip
    finally:
        stop(proc)

    doc = Document.objects.get(pk=guide)
    assert doc.status == "ready"
    assert doc.error == ""
    assert _texts(guide) == current  # the current chunker's output
    assert doc.chunk_count == 1
    assert not Chunk.objects.filter(pk__in=[c.pk for c in old]).exists()
    assert not Chunk.objects.filter(document_id=guide, embedding__isnull=True).exists()
    failed = Document.objects.get(pk=broken)
    assert failed.status == "failed"
    assert failed.error.endswith(".")
    assert Document.objects.filter(pk=other).values().get() == other_before
    assert list(Chunk.objects.filter(document_id=other).values_list("id", flat=True)) == (
        other_chunks
    )

    lines = out.getvalue().splitlines()
    title = Document.objects.get(pk=guide).title
    assert f"queued   acme/Guides: {title}" in lines
    assert f"skipped  acme/Guides: Pasted long ago ({no_file.pk}): This document has no " \
        "stored content to re-ingest; post it again." in lines  # fmt: skip
    assert f"ready    acme/Guides: {title} (1 chunk, were 3)" in lines
    assert f"failed   acme/Guides: {failed.title} ({broken}): {failed.error}" in lines
    assert lines[-1] == (
        "Re-ingested 2 document(s): 1 ready, 1 failed; 1 skipped (1 no stored original)."
    )
    assert not any("globex" in line for line in lines)
