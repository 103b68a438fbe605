"""A dataset's text search `language` (datasets/text_search.py): set on create and PATCH,
checked against the server's configurations (400 otherwise), written on chunks by ingestion,
re-derived on a change, and used for the question's lexemes of keyword search, per dataset
when a search spans several. Before, every chunk and question was `english`: "Flächen" never
found "Fläche"."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from conversations.tests.conftest import embed_cached
from datasets.ingestion import process_document
from datasets.models import Chunk, Dataset
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db

GERMAN = "GeoTopo > Die Fläche eines Dreiecks ist die halbe Grundseite mal der Höhe."
ENGLISH = "Guide > Running several workers keeps the queues short."


def _chunk(dataset, text):
    doc = DocumentFactory(dataset=dataset)
    return ChunkFactory(document=doc, index=0, text=text, embedding=list(embed_cached(text)))


def _keyword(api, datasets, query):
    res = api.post(
        "/v1/retrieve",
        {"datasets": [str(d.id) for d in datasets], "query": query, "mode": "keyword"},
        format="json",
    )
    assert res.status_code == 200, res.json()
    return res.json()["data"]


def test_language_defaults_to_english_and_is_set_on_create_and_patch(api):
    res = api.post("/v1/datasets", {"name": "Plain"}, format="json")
    assert res.status_code == 201, res.json()
    assert res.json()["language"] == "english"
    res = api.post("/v1/datasets", {"name": "Thesis", "language": "german"}, format="json")
    assert res.status_code == 201, res.json()
    ds = res.json()
    assert ds["language"] == "german"
    assert api.get(f"/v1/datasets/{ds['id']}").json()["language"] == "german"
    res = api.patch(f"/v1/datasets/{ds['id']}", {"language": "french"}, format="json")
    assert res.status_code == 200, res.json()
    assert res.json()["language"] == "french"
    assert Dataset.objects.get(pk=ds["id"]).language == "french"


@pytest.mark.parametrize("value", ["klingon", "English", "", "german; drop table x"])
def test_an_unknown_configuration_is_a_400_with_the_error_body(api, value):
    res = api.post("/v1/datasets", {"name": "X", "language": value}, format="json")
    assert res.status_code == 400
    error = res.json()["error"]
    assert error["type"] == "invalid_request"
    assert "language" in error["message"]
    assert not Dataset.objects.filter(name="X").exists()
    ds = api.post("/v1/datasets", {"name": "Y"}, format="json").json()
    res = api.patch(f"/v1/datasets/{ds['id']}", {"language": value}, format="json")
    assert res.status_code == 400
    assert res.json()["error"]["type"] == "invalid_request"
    assert Dataset.objects.get(pk=ds["id"]).language == "english"


def test_the_400_names_the_configurations_the_server_has(api):
    res = api.post("/v1/datasets", {"name": "X", "language": "klingon"}, format="json")
    details = res.json()["error"]["details"]
    assert details["field"] == "language"
    assert {"simple", "english", "german", "french", "spanish"} <= set(details["available"])


def test_an_inflected_german_form_is_found_only_under_german(api, tenant):
    dataset = DatasetFactory(tenant=tenant)  # english, as every dataset was
    chunk = _chunk(dataset, GERMAN)
    assert _keyword(api, [dataset], "Flächen") == []  # the old behaviour
    res = api.patch(f"/v1/datasets/{dataset.id}", {"language": "german"}, format="json")
    assert res.status_code == 200, res.json()
    chunk.refresh_from_db()
    assert chunk.language == "german"  # re-derived with the dataset's change
    found = _keyword(api, [dataset], "Flächen")
    assert [r["chunk_id"] for r in found] == [str(chunk.id)]
    assert found[0]["score"] == 1.0  # coverage: the question's one lexeme, under german
    # and back: the vectors follow again
    api.patch(f"/v1/datasets/{dataset.id}", {"language": "english"}, format="json")
    assert _keyword(api, [dataset], "Flächen") == []


def test_a_search_across_datasets_of_two_languages_uses_each_ones_lexemes(api, tenant):
    german = DatasetFactory(tenant=tenant, language="german")
    english = DatasetFactory(tenant=tenant)
    de = _chunk(german, GERMAN)
    en = _chunk(english, ENGLISH)
    found = _keyword(api, [german, english], "Flächen der Höhen, running workers")
    assert {r["chunk_id"] for r in found} == {str(de.id), str(en.id)}
    # Each chunk's coverage counts its own language's lexemes of the question.
    scores = {r["chunk_id"]: r["score"] for r in found}
    assert 0 < scores[str(de.id)] < 1
    assert 0 < scores[str(en.id)] < 1
    hybrid = api.post(
        "/v1/retrieve",
        {"datasets": [str(german.id), str(english.id)], "query": "Flächen", "mode": "hybrid"},
        format="json",
    ).json()["data"]
    assert hybrid[0]["chunk_id"] == str(de.id)


def test_language_paths_of_another_tenant_are_404(api, other_tenant):
    theirs = DatasetFactory(tenant=other_tenant)
    chunk = _chunk(theirs, GERMAN)
    res = api.patch(f"/v1/datasets/{theirs.id}", {"language": "german"}, format="json")
    assert res.status_code == 404
    assert res.json()["error"]["type"] == "not_found"
    res = api.patch(f"/v1/datasets/{theirs.id}", {"language": "klingon"}, format="json")
    assert res.status_code == 404  # not a 400 telling the dataset exists
    assert Dataset.objects.get(pk=theirs.id).language == "english"
    chunk.refresh_from_db()
    assert chunk.language == "english"
    res = api.post(
        "/v1/retrieve",
        {"datasets": [str(theirs.id)], "query": "Fläche", "mode": "keyword"},
        format="json",
    )
    assert res.status_code == 404


def test_ingestion_writes_the_datasets_language_on_its_chunks(api, tenant):
    ds = api.post("/v1/datasets", {"name": "Thesis", "language": "german"}, format="json").json()
    body = {"text": "# Flächen\n\nDie Flächen der Dreiecke werden berechnet.", "title": "Geo"}
    doc = api.post(f"/v1/datasets/{ds['id']}/documents", body, format="json").json()
    process_document(doc["id"], use_lease=False)
    chunks = list(Chunk.objects.filter(document_id=doc["id"]))
    assert chunks
    assert {c.language for c in chunks} == {"german"}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT bool_and(search_vector = to_tsvector('german', text)) FROM datasets_chunk "
            "WHERE document_id = %s",
            [doc["id"]],
        )
        assert cur.fetchone()[0] is True
    found = _keyword(api, [Dataset.objects.get(pk=ds["id"])], "Fläche")
    assert found
    assert found[0]["document_id"] == doc["id"]


def test_manage_py_ingest_creates_the_dataset_with_its_language(tenant, tmp_path):
    note = tmp_path / "geo.md"
    note.write_text("# Flächen\n\nDie Flächen der Dreiecke werden berechnet.")
    out = io.StringIO()
    call_command(
        "ingest", str(note), tenant="acme", dataset="Thesis", language="german", sync=True,
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    dataset = Dataset.objects.get(tenant=tenant, name="Thesis")
    assert dataset.language == "german"
    assert set(Chunk.objects.filter(dataset=dataset).values_list("language", flat=True)) == {
        "german"
    }
    # An existing dataset keeps its language: naming another is refused before any upload.
    with pytest.raises(CommandError, match="has language 'german', not 'french'"):
        call_command(
            "ingest", str(note), tenant="acme", dataset="Thesis", language="french",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match=r"^--language: language: 'klingon' is not"):
        call_command(
            "ingest", str(note), tenant="acme", dataset="Other", language="klingon",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert not Dataset.objects.filter(name="Other").exists()


def test_a_configuration_made_on_the_server_is_taken_by_its_qualified_name(api, tenant):
    """Not only the built-in ones; by ``schema.name``, which a restore resolves (pg_dump empties
    the search path, and the chunks' vectors are recomputed from the name), and found at once
    though the list of names is cached."""
    api.post("/v1/datasets", {"name": "Warm", "language": "german"}, format="json")  # cached
    with connection.cursor() as cur:
        cur.execute("CREATE TEXT SEARCH CONFIGURATION public.geo_de (COPY = pg_catalog.german)")
    res = api.post("/v1/datasets", {"name": "Geo", "language": "geo_de"}, format="json")
    assert res.status_code == 400
    assert "public.geo_de" in res.json()["error"]["details"]["available"]
    res = api.post("/v1/datasets", {"name": "Geo", "language": "public.geo_de"}, format="json")
    assert res.status_code == 201, res.json()
    dataset = Dataset.objects.get(pk=res.json()["id"])
    chunk = _chunk(dataset, GERMAN)
    assert chunk.language == "public.geo_de"
    found = _keyword(api, [dataset], "Flächen")
    assert [r["chunk_id"] for r in found] == [str(chunk.id)]
