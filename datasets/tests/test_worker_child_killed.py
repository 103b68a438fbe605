"""A pool process SIGKILLed mid-document while its worker lives on (the kernel's OOM killer
picks the child that holds the big document, not the worker's main process).

Repro (helper-68): with the prefork pool, acks_late and reject_on_worker_lost, the worker's main
process requeues the message at once; the next child gets it while the dead child's Redis lease
(INGEST_LEASE_SECONDS, 120 s) is still live, skips it ("another worker holds the document") and
acks it. Recovery only ran when a worker *started*, and this one never restarted: the document
stayed ``processing`` for ever. Now every worker sweeps periodically (INGEST_SWEEP_SECONDS) and
re-queues a ``processing`` document whose lease expired; attempts stay bounded (MAX_ATTEMPTS).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from chatbot_project.testing.processes import BASE_DIR, child_env, stop, wait_for_worker
from datasets.models import Chunk, Document

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _prefork_worker(tmp_path: Path, **env: str) -> subprocess.Popen:
    out = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "chatbot_project", "worker", "--pool", "prefork",
         "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
         "-n", f"child-kill-{time.monotonic_ns()}@%h"],
        cwd=BASE_DIR, env=child_env(MEDIA_ROOT=settings.MEDIA_ROOT, **env), stdout=out,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    wait_for_worker(60)
    return proc


def _wait_status(doc_id, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = Document.objects.get(pk=doc_id)
        if predicate(doc):
            return doc
        time.sleep(0.1)
    return Document.objects.get(pk=doc_id)


def test_a_pool_child_killed_mid_document_does_not_leave_it_processing(api, tmp_path):
    ds = api.post("/v1/datasets", {"name": "Child"}, format="json").json()
    # A text big enough to take several seconds to embed (~1,500 chunks).
    body = "\n\n".join(
        f"Paragraph {i}: returns are accepted within {i % 90} days with receipt number {i * 7}."
        for i in range(12000)
    )
    proc = _prefork_worker(tmp_path, INGEST_LEASE_SECONDS="8", INGEST_SWEEP_SECONDS="2")
    try:
        upload = SimpleUploadedFile("big.txt", body.encode(), content_type="text/plain")
        res = api.post(f"/v1/datasets/{ds['id']}/documents", {"file": upload}, format="multipart")
        assert res.status_code == 202, res.content
        doc_id = res.json()["id"]
        doc = _wait_status(doc_id, lambda d: d.status == "processing" and d.progress > 0.3, 120)
        assert doc.status == "processing", (doc.status, doc.progress, doc.error)
        children = psutil.Process(proc.pid).children()
        assert len(children) == 1, children
        children[0].kill()  # SIGKILL the pool process; the worker's main process lives on
        doc = _wait_status(doc_id, lambda d: d.status in ("ready", "failed"), 150)
        assert doc.status == "ready", (doc.status, doc.progress, doc.error, doc.attempts)
        assert doc.attempts == 2
        assert Chunk.objects.filter(document_id=doc_id).count() == doc.chunk_count > 0
    finally:
        stop(proc)
