"""Documents whose task is gone are queued again by the workers' sweep (datasets.recovery).

Repro (helper-68): with a worker running, an upload while the web process could not reach Redis
answered 503 and left its document ``queued`` with no task; unless the client posted it again,
it stayed queued until some worker restarted (the only recovery ran at worker start). The
database dropping the worker's connection mid-document failed it with "Ingestion failed
unexpectedly (OperationalError) ... the file may be malformed", blaming the file.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from chatbot_project.celery import app
from chatbot_project.redis_client import get_redis
from chatbot_project.testing.processes import free_port, running_worker
from datasets.models import Chunk, Document
from datasets.tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = b"# Returns\n\nItems can be returned within 30 days with the receipt.\n"


def _queued_ids() -> list[str]:
    headers = [json.loads(m)["headers"] for m in get_redis().lrange("celery", 0, -1)]
    return [h["argsrepr"] for h in headers if h["task"] == "datasets.ingest_document"]


def _wait(doc_id, statuses, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = Document.objects.get(pk=doc_id)
        if doc.status in statuses:
            return doc
        time.sleep(0.1)
    return Document.objects.get(pk=doc_id)


@contextlib.contextmanager
def _maintenance():
    """A cursor on the server's `postgres` database (a database cannot refuse connections to
    itself from within), with the test database's name and this test's own backend pid."""
    import psycopg

    sd = connection.settings_dict
    with connection.cursor() as own:
        own.execute("SELECT pg_backend_pid()")
        keep = own.fetchone()[0]
    params = {"host": sd["HOST"], "port": sd["PORT"] or 5432, "user": sd["USER"] or "postgres"}
    if sd.get("PASSWORD"):
        params["password"] = sd["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        try:
            yield conn.cursor(), sd["NAME"], keep
        finally:  # whatever happened: the database open again, and this process's pool
            # rid of the connections terminated above (its next test found only dead ones,
            # and on a loaded machine timed out re-opening them: a PoolTimeout at setup)
            conn.execute(f'ALTER DATABASE "{sd["NAME"]}" WITH ALLOW_CONNECTIONS true')
            pool = getattr(connection, "pool", None)
            if pool is not None:
                pool.check()


@pytest.fixture
def unreachable_broker():
    """The web process's broker points at a closed port (Redis down for it) until restored."""
    url = app.conf.broker_url

    def down(value: bool) -> None:
        app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0" if value else url
        app._pool = app.amqp._producer_pool = None  # publish through a connection to the URL

    yield down
    down(False)


@pytest.mark.e2e
def test_an_upload_that_could_not_queue_its_task_is_ingested_without_a_repost(
    api, tmp_path: Path, unreachable_broker
):
    ds = api.post("/v1/datasets", {"name": "Lost"}, format="json").json()
    log = tmp_path / "worker.log"
    with running_worker(
        log_path=log,
        MEDIA_ROOT=settings.MEDIA_ROOT,
        INGEST_LEASE_SECONDS="3",
        INGEST_SWEEP_SECONDS="2",
    ):
        time.sleep(1)  # past the worker's start-up sweep: this is a running worker
        unreachable_broker(True)
        upload = SimpleUploadedFile("returns.md", TEXT, content_type="text/markdown")
        res = api.post(f"/v1/datasets/{ds['id']}/documents", {"file": upload}, format="multipart")
        unreachable_broker(False)
        assert res.status_code == 503, res.content
        doc = Document.objects.get()
        assert doc.status == "queued"
        doc = _wait(doc.pk, {"ready", "failed"}, 60)
    assert doc.status == "ready", (doc.status, doc.error, log.read_text()[-2000:])
    assert doc.attempts == 1


def test_the_sweep_queues_a_lost_task_once_and_leaves_waiting_ones(tenant):
    from datetime import timedelta

    from django.utils import timezone

    from datasets import recovery
    from datasets.services import document_create_from_text

    dataset = DatasetFactory(tenant=tenant)
    waiting, _ = document_create_from_text(tenant=tenant, dataset=dataset, text="waits", title="w")
    lost, _ = document_create_from_text(tenant=tenant, dataset=dataset, text="lost", title="l")
    old = timezone.now() - timedelta(hours=1)
    Document.objects.update(updated_at=old)
    assert sorted(_queued_ids()) == sorted([repr((str(waiting.pk),)), repr((str(lost.pk),))])
    for message in get_redis().lrange("celery", 0, -1):  # lost's message and mark: gone
        if str(lost.pk) in json.loads(message)["headers"]["argsrepr"]:
            get_redis().lrem("celery", 0, message)
    get_redis().delete(recovery.QUEUED_PREFIX + str(lost.pk))
    assert _queued_ids() == [repr((str(waiting.pk),))]
    assert recovery.sweep() == 1
    assert recovery.sweep() == 0  # its new task is on its way: not sent twice
    assert sorted(_queued_ids()) == sorted([repr((str(waiting.pk),)), repr((str(lost.pk),))])


def test_the_sweep_task_is_published_once_for_all_workers():
    from datasets import recovery

    assert recovery.publish_sweep() is True
    assert recovery.publish_sweep() is False  # another worker's round: one is on its way
    names = [json.loads(m)["headers"]["task"] for m in get_redis().lrange("celery", 0, -1)]
    assert names == ["datasets.recover_stalled_documents"]
    recovery.sweep_started()
    assert recovery.publish_sweep() is True


@pytest.mark.e2e
@pytest.mark.parametrize("down_seconds", [0, 4], ids=["dropped", "down-a-while"])
def test_the_database_dropping_the_worker_mid_document_does_not_fail_it(
    api, tmp_path, down_seconds
):
    """0: the connections dropped (the retry finds the database back); 4: refused for 4 s as
    well, as while a database restarts (the retry's own write fails too, the task ends with the
    document `processing` and no lease, and the sweep re-queues it once it is back)."""
    ds = api.post("/v1/datasets", {"name": "DB"}, format="json").json()
    body = "\n\n".join(
        f"Paragraph {i}: returns are accepted within {i % 90} days with receipt number {i * 7}."
        for i in range(6000)
    )
    log = tmp_path / "worker.log"
    with running_worker(
        log_path=log,
        MEDIA_ROOT=settings.MEDIA_ROOT,
        INGEST_LEASE_SECONDS="3",
        INGEST_SWEEP_SECONDS="2",
    ):
        time.sleep(5)  # past the worker's start-up recovery (a lease + 1 s): a running worker
        upload = SimpleUploadedFile("big.txt", body.encode(), content_type="text/plain")
        res = api.post(f"/v1/datasets/{ds['id']}/documents", {"file": upload}, format="multipart")
        doc_id = res.json()["id"]
        doc = _wait(doc_id, {"ready", "failed"} | {"processing"}, 60)
        while doc.status == "processing" and doc.progress < 0.3:
            doc = Document.objects.get(pk=doc_id)
        assert doc.status == "processing", doc.status
        with _maintenance() as (cur, test_db, keep):  # what a restart does to the worker
            if down_seconds:
                cur.execute(f'ALTER DATABASE "{test_db}" WITH ALLOW_CONNECTIONS false')
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> %s",
                [test_db, keep],
            )
            if down_seconds:
                time.sleep(down_seconds)
                cur.execute(f'ALTER DATABASE "{test_db}" WITH ALLOW_CONNECTIONS true')
        doc = _wait(doc_id, {"ready", "failed"}, 120)
    assert doc.status == "ready", (doc.status, doc.error, log.read_text()[-3000:])
    assert Chunk.objects.filter(document_id=doc_id).count() == doc.chunk_count > 0
