"""``manage.py reindex_text``: a text search configuration changed in place on the server (here
``ALTER TEXT SEARCH CONFIGURATION ... ALTER MAPPING``) left the chunks indexed before with the
old lexemes while questions got the new ones: keyword search silently found nothing, and no
command re-derived them. Also: re-indexing waits for an ingestion worker writing into the
dataset (the lock of a language change), a dataset whose configuration was dropped is skipped
with a sentence (exit 1), and the system check and ``show_tenant`` name such datasets."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from conversations.tests.conftest import embed_cached
from datasets.checks import languages_exist
from datasets.ingestion import process_document
from datasets.models import Chunk, Dataset
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory
from datasets.tests.threads import in_thread
from datasets.text_search import available_languages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.filterwarnings("ignore")]

CONFIG = "public.h85_reindex"
TEXT = "Guide > Running several workers keeps the queues short."


def _sql(statement, params=()):
    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else None


@pytest.fixture
def config():
    """CONFIG, a copy of ``simple`` (no stemming: ``workers`` stays ``workers``)."""
    _sql(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.simple)")
    available_languages(fresh=True)
    try:
        yield CONFIG
    finally:
        _sql(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")


def _stem():
    """Change CONFIG in place: English stemming from now on (``workers`` -> ``worker``)."""
    _sql(f"ALTER TEXT SEARCH CONFIGURATION {CONFIG} ALTER MAPPING FOR asciiword WITH english_stem")


def _chunk(dataset):
    doc = DocumentFactory(dataset=dataset)
    return ChunkFactory(document=doc, index=0, text=TEXT, embedding=list(embed_cached(TEXT)))


def _keyword(api, dataset, query="workers"):
    res = api.post(
        "/v1/retrieve",
        {"datasets": [str(dataset.id)], "query": query, "mode": "keyword"},
        format="json",
    )
    assert res.status_code == 200, res.json()
    return [r["chunk_id"] for r in res.json()["data"]]


def _fresh(dataset):
    """Whether every chunk's stored vector is what the configuration makes of it now."""
    return _sql(
        "SELECT bool_and(search_vector = to_tsvector(language::regconfig, text)) "
        "FROM datasets_chunk WHERE dataset_id = %s",
        [dataset.id],
    )[0][0]


def _run(**opts):
    out = io.StringIO()
    call_command("reindex_text", stdout=out, stderr=io.StringIO(), **opts)
    return out.getvalue()


def test_a_configuration_changed_in_place_is_reindexed(api, tenant, other_tenant, config):
    dataset = DatasetFactory(tenant=tenant, name="Guide", language=config)
    chunk = _chunk(dataset)
    english = DatasetFactory(tenant=tenant, name="Plain")
    _chunk(english)
    theirs = DatasetFactory(tenant=other_tenant, name="Guide", language=config)
    _chunk(theirs)
    assert _keyword(api, dataset) == [str(chunk.id)]
    _stem()
    assert _keyword(api, dataset) == []  # the stale vectors: the question's lexeme is `worker`
    assert not _fresh(dataset)
    out = _run(tenant="acme", language=config)
    assert f"acme/Guide: 1 chunk re-indexed ({config})." in out
    assert "Re-indexed 1 chunk in 1 dataset(s)." in out
    assert "Plain" not in out
    assert _fresh(dataset)
    assert not _fresh(theirs)  # another tenant's, not asked for
    assert _keyword(api, dataset) == [str(chunk.id)]
    out = _run(all=True)  # every tenant's, every language's
    assert "globex/Guide: 1 chunk re-indexed" in out
    assert "acme/Plain: 1 chunk re-indexed (english)." in out
    assert "Re-indexed 3 chunks in 3 dataset(s)." in out
    assert _fresh(theirs)
    out = _run(dataset=str(dataset.id))  # by id, as the API names it
    assert "acme/Guide: 1 chunk re-indexed" in out


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({}, "Say which datasets to re-index"),
        ({"tenant": ""}, "--tenant is empty"),
        ({"tenant": "nope", "all": True}, "No tenant 'nope'"),
        ({"dataset": "nope"}, "No dataset 'nope' (name or id)."),
        ({"dataset": "x", "all": True}, "not both"),
        ({"language": "klingon"}, "No dataset has language 'klingon'"),
    ],
)
def test_bad_options_are_one_sentence(tenant, opts, message):
    DatasetFactory(tenant=tenant, name="x")
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _run(**opts)


def test_a_dropped_configuration_is_skipped_named_and_warned_about(tenant, config):
    gone = DatasetFactory(tenant=tenant, name="Gone", language=config)
    _chunk(gone)
    fine = DatasetFactory(tenant=tenant, name="Fine")
    _chunk(fine)
    assert languages_exist() == []
    _sql(f"DROP TEXT SEARCH CONFIGURATION {config}")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 chunk in 1 dataset\(s\); 1 skipped"):
        call_command("reindex_text", all=True, stdout=out, stderr=io.StringIO())
    assert f"skipped  acme/Gone: The text search configuration '{config}'" in out.getvalue()
    assert "acme/Fine: 1 chunk re-indexed (english)." in out.getvalue()
    [warning] = languages_exist()
    assert warning.id == "datasets.W002"
    assert f"acme/Gone ({config})" in warning.msg
    assert "Fine" not in warning.msg
    err = io.StringIO()
    call_command("check", "--database", "default", stdout=io.StringIO(), stderr=err)
    assert "datasets.W002" in err.getvalue()
    shown = io.StringIO()
    call_command("show_tenant", "acme", stdout=shown)
    text = shown.getvalue()
    assert f"WARNING: its language '{config}' no longer exists" in text
    assert text.count("WARNING") == 1


def test_reindexing_waits_for_a_worker_writing_chunks(api, tenant, config, monkeypatch):
    """A worker has inserted a document's chunks (made under the old definition: the change
    comes after) and not committed: the re-index waits for it, then re-derives them too."""
    ds = api.post("/v1/datasets", {"name": "Guide", "language": config}, format="json").json()
    body = {"text": "# Guide\n\nRunning several workers keeps the queues short.", "title": "G"}
    doc = api.post(f"/v1/datasets/{ds['id']}/documents", body, format="json").json()
    dataset = Dataset.objects.get(pk=ds["id"])
    written, go = threading.Event(), threading.Event()
    real = Chunk.objects.bulk_create

    def paused(rows, *args, **kwargs):
        result = real(rows, *args, **kwargs)
        written.set()
        go.wait(10)
        return result

    monkeypatch.setattr(Chunk.objects, "bulk_create", paused)
    worker, worker_errors = in_thread(lambda: process_document(doc["id"], use_lease=False))
    assert written.wait(30)
    _stem()  # (another connection: the worker's uncommitted vectors are the old definition's)
    out = io.StringIO()
    reindex, reindex_errors = in_thread(
        lambda: call_command("reindex_text", dataset="Guide", stdout=out)
    )
    reindex.join(0.5)
    assert reindex.is_alive()  # waits for the worker's commit
    go.set()
    worker.join(30)
    reindex.join(30)
    assert not worker_errors
    assert not reindex_errors
    assert Chunk.objects.filter(document_id=doc["id"]).exists()
    assert _fresh(dataset)
    assert "acme/Guide: 1 chunk re-indexed" in out.getvalue()
    assert _keyword(api, dataset)
