"""A dataset's text search configuration dropped on the server after its chunks were indexed
(``DROP TEXT SEARCH CONFIGURATION``: nothing in PostgreSQL ties the stored name to it). Before,
keyword and hybrid retrieval (POST /v1/retrieve, /v1/chat) answered a 500, and a document
ingested into it failed "unexpectedly (ProgrammingError) ... the file may be malformed". Now
each says which configuration is gone and what to do (a 409 / the failed document's error);
vector retrieval, a PATCH of the dataset's other fields and of its documents go on, and a PATCH
to an existing language re-indexes its chunks (datasets/text_search.py)."""

from __future__ import annotations

import pytest
from django.db import connection

from conversations.tests.conftest import build_kb
from conversations.tests.helpers import chat
from datasets.ingestion import process_document
from datasets.models import Chunk, Dataset, Document
from datasets.text_search import available_languages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.filterwarnings("ignore")]

CONFIG = "public.h85_dropped"
QUESTION = "How do I limit anonymous clients per day?"


def _sql(statement, params=()):
    with connection.cursor() as cur:
        cur.execute(statement, params)


@pytest.fixture
def dropped(tenant, api):
    """The knowledge base's dataset indexed under CONFIG, then CONFIG dropped."""
    _sql(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.english)")
    try:
        kb = build_kb(tenant)
        res = api.patch(f"/v1/datasets/{kb.dataset.id}", {"language": CONFIG}, format="json")
        assert res.status_code == 200, res.json()
        _sql(f"DROP TEXT SEARCH CONFIGURATION {CONFIG}")
        available_languages(fresh=True)  # as a process would after its minute of cache
        api.raise_request_exception = False  # a 500 is an answer to look at, not a raise
        yield kb
    finally:
        _sql(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")


def _says_what_is_missing(res, kb):
    assert res.status_code == 409, (res.status_code, res.content)
    error = res.json()["error"]
    assert error["type"] == "conflict"
    assert CONFIG in error["message"]
    assert repr(kb.dataset.name) in error["message"]
    assert "PATCH /v1/datasets/{id}" in error["message"]
    assert "manage.py reindex_text" in error["message"]
    assert error["details"]["missing"] == [CONFIG]
    assert error["details"]["datasets"] == [str(kb.dataset.id)]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_keyword_and_hybrid_retrieval_say_which_configuration_is_gone(api, dropped, mode):
    body = {"datasets": [str(dropped.dataset.id)], "query": QUESTION, "mode": mode}
    _says_what_is_missing(api.post("/v1/retrieve", body, format="json"), dropped)
    body["mode"] = "vector"  # made without text search: unaffected
    res = api.post("/v1/retrieve", body, format="json")
    assert res.status_code == 200, res.json()
    assert res.json()["data"]


def test_a_chat_says_which_configuration_is_gone(client, make_key, dropped):
    client.raise_request_exception = False
    key = make_key(dropped.tenant)
    status, body = chat(client, key, bot="helper", message=QUESTION)  # the bot's hybrid mode
    assert status == 409, body
    assert CONFIG in body["error"]["message"]
    assert "manage.py reindex_text" in body["error"]["message"]


def test_a_document_ingested_into_it_fails_saying_why(api, dropped):
    doc = api.post(
        f"/v1/datasets/{dropped.dataset.id}/documents",
        {"text": "# Quotas\n\nAnonymous clients get a hundred requests a day.", "title": "Q"},
        format="json",
    )
    assert doc.status_code == 202, doc.json()
    assert process_document(doc.json()["id"], use_lease=False) == Document.Status.FAILED
    failed = Document.objects.get(pk=doc.json()["id"])
    assert CONFIG in failed.error
    assert "no longer exists on the database server" in failed.error
    assert "re-ingest the document" in failed.error
    assert not Chunk.objects.filter(document=failed).exists()
    assert api.get(f"/v1/documents/{failed.id}").json()["error"] == failed.error


def test_the_dataset_and_its_documents_can_still_be_patched(api, dropped):
    ds = f"/v1/datasets/{dropped.dataset.id}"
    res = api.patch(ds, {"name": "renamed", "description": "x"}, format="json")
    assert res.status_code == 200, res.json()  # was a 400 about the language nobody sent
    assert res.json()["language"] == CONFIG
    doc = next(iter(dropped.documents.values()))
    res = api.patch(f"/v1/documents/{doc.id}", {"tags": ["faq"], "title": "T"}, format="json")
    assert res.status_code == 200, res.json()
    tags = list(Chunk.objects.filter(document=doc).values_list("tags", flat=True))
    assert tags
    assert all(t == ["faq"] for t in tags)
    # The way out: an existing language re-indexes the chunks, and keyword search works again.
    res = api.patch(ds, {"language": "english"}, format="json")
    assert res.status_code == 200, res.json()
    assert set(
        Chunk.objects.filter(dataset=dropped.dataset).values_list("language", flat=True)
    ) == {"english"}
    res = api.post(
        "/v1/retrieve",
        {"datasets": [str(dropped.dataset.id)], "query": "anonymous clients", "mode": "keyword"},
        format="json",
    )
    assert res.status_code == 200, res.json()
    assert res.json()["data"]
    # Setting a configuration the server does not have is still the 400 it was.
    res = api.patch(ds, {"language": CONFIG}, format="json")
    assert res.status_code == 400
    assert Dataset.objects.get(pk=dropped.dataset.id).language == "english"


def test_the_fast_lane_says_it_too(make_key, dropped):
    """POST /v1/retrieve and /v1/chat through the in-process ASGI app (the fast lane), by
    bot: the second retrieval reads the bot through the search's own round trip (riding)."""
    from conversations.tests.test_fastlane import _post

    key = make_key(dropped.tenant, ("chat",))
    for _ in range(2):
        res = _post(key, {"bot": "helper", "query": QUESTION, "mode": "keyword"})
        _says_what_is_missing(res, dropped)
    res = _post(key, {"bot": "helper", "message": QUESTION}, path="/v1/chat")
    _says_what_is_missing(res, dropped)
    res = _post(key, {"bot": "helper", "message": QUESTION, "stream": True}, path="/v1/chat")
    assert res.status_code == 409, res.text
    assert CONFIG in res.json()["error"]["message"]
