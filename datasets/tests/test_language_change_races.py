"""A dataset's language changed while a worker writes a document's chunks into it: no chunk is
left with the language being replaced. The worker reads the language under its FOR KEY SHARE
lock of the dataset row; the change locks that row FOR UPDATE (text_search.set_chunks_language),
so it waits for a worker already writing (then re-derives its chunks too), and a worker starting
meanwhile waits for it (then writes the new language)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from datasets.ingestion import process_document
from datasets.models import Chunk, Dataset
from datasets.services import dataset_update
from datasets.tests.threads import in_thread

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"text": "# Flächen\n\nDie Flächen der Dreiecke werden berechnet.", "title": "Geo"}


def _document(api):
    ds = api.post("/v1/datasets", {"name": "Thesis"}, format="json").json()
    doc = api.post(f"/v1/datasets/{ds['id']}/documents", BODY, format="json").json()
    return Dataset.objects.get(pk=ds["id"]), doc["id"]


def _all_german(document_id):
    chunks = Chunk.objects.filter(document_id=document_id)
    assert chunks.exists()
    assert set(chunks.values_list("language", flat=True)) == {"german"}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT bool_and(search_vector = to_tsvector('german', text)) FROM datasets_chunk "
            "WHERE document_id = %s",
            [document_id],
        )
        assert cur.fetchone()[0] is True


def test_a_change_during_the_chunk_writes_waits_and_relanguages_them(api, tenant, monkeypatch):
    dataset, document_id = _document(api)
    written, go = threading.Event(), threading.Event()
    real = Chunk.objects.bulk_create

    def paused(rows, *args, **kwargs):
        result = real(rows, *args, **kwargs)
        written.set()  # chunks inserted as english, not committed yet
        go.wait(10)
        return result

    monkeypatch.setattr(Chunk.objects, "bulk_create", paused)
    worker, worker_errors = in_thread(lambda: process_document(document_id, use_lease=False))
    assert written.wait(30)
    change, change_errors = in_thread(
        lambda: dataset_update(tenant=tenant, dataset=dataset, language="german")
    )
    change.join(0.5)
    assert change.is_alive()  # waits for the worker's commit
    go.set()
    worker.join(30)
    change.join(30)
    assert not worker_errors
    assert not change_errors
    _all_german(document_id)


def test_a_worker_starting_its_writes_during_a_change_writes_the_new_language(api, tenant):
    dataset, document_id = _document(api)
    changed, commit = threading.Event(), threading.Event()

    def change():
        with transaction.atomic():
            dataset_update(tenant=tenant, dataset=dataset, language="german")
            changed.set()
            commit.wait(10)

    changer, change_errors = in_thread(change)
    assert changed.wait(10)
    worker, worker_errors = in_thread(lambda: process_document(document_id, use_lease=False))
    worker.join(3)  # extraction and embedding run; the chunk writes wait for the change
    commit.set()
    changer.join(30)
    worker.join(60)
    assert not change_errors
    assert not worker_errors
    _all_german(document_id)
