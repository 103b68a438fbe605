"""Redis (leases, broker) going away while a document is ingested.

Repro (helper-68, a redis-server this test owns, stopped mid-document): the lease refresh on the
next progress write raised ConnectionError and the task failed the document for good with
"Ingestion failed unexpectedly (ConnectionError); ... the file may be malformed." Redis down when
a task started (taking the lease) did the same. Now a refresh or release that cannot reach Redis
is logged and the run goes on; taking the lease is retried as an outage, and after the retries
the sentence names Redis.
"""

from __future__ import annotations

import threading
import time

import pytest

from chatbot_project.redis_client import get_redis
from chatbot_project.testing.processes import free_port
from chatbot_project.tests.test_faults import _start_redis, _stop_redis
from datasets.models import Chunk, Document
from datasets.services import document_create_from_text
from datasets.tests.factories import DatasetFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_of_its_own(settings, tmp_path):
    """Leases (and the broker of retries) on a redis-server of the test's own."""
    port = free_port()
    _start_redis(port, tmp_path)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    get_redis.cache_clear()
    try:
        yield port
    finally:
        get_redis.cache_clear()
        _stop_redis(port)


def _document(tenant, paragraphs: int) -> Document:
    text = "\n\n".join(
        f"Paragraph {i}: returns are accepted within {i % 90} days with receipt number {i * 7}."
        for i in range(paragraphs)
    )
    doc, _ = document_create_from_text(
        tenant=tenant, dataset=DatasetFactory(tenant=tenant), text=text, title="Returns"
    )
    return doc


def test_redis_stopping_mid_document_does_not_fail_it(tenant, redis_of_its_own):
    from datasets.tasks import ingest_document

    doc = _document(tenant, 3000)

    def stop_redis_once_embedding() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if Document.objects.filter(pk=doc.pk, progress__gt=0.35).exists():
                _stop_redis(redis_of_its_own)
                break
            time.sleep(0.05)
        from django.db import connections

        connections.close_all()

    watcher = threading.Thread(target=stop_redis_once_embedding)
    watcher.start()
    result = ingest_document.apply(args=(str(doc.pk),)).get()
    watcher.join(10)
    doc.refresh_from_db()
    assert (result, doc.status, doc.error) == ("ready", "ready", "")
    assert Chunk.objects.filter(document_id=doc.pk).count() == doc.chunk_count > 0


def test_redis_down_when_the_task_starts_names_redis(tenant, redis_of_its_own):
    from datasets.tasks import ingest_document

    doc = _document(tenant, 3)
    _stop_redis(redis_of_its_own)
    ingest_document.apply(args=(str(doc.pk),))  # eager: its retries run at once
    doc.refresh_from_db()
    assert doc.status == "failed"
    assert doc.error.startswith("Redis could not be reached. It kept failing after 5 tries")
    assert doc.attempts == 0  # no run started
