"""REST for datasets, documents and chunks, including limits and cross-tenant access."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.embeddings import configured_model_name
from datasets.ingestion import process_document
from datasets.models import Chunk, Dataset, Document
from datasets.tests.factories import DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db


def _dataset(api, name="Docs", **kw):
    res = api.post("/v1/datasets", {"name": name, **kw}, format="json")
    assert res.status_code == 201, res.json()
    return res.json()


def test_dataset_crud_records_the_embedding_model(api):
    ds = _dataset(api, chunk_size=180, chunk_overlap=20)
    assert ds["embedding_model"] == configured_model_name()  # local-minilm-l6-v2(-int8)
    assert ds["embedding_dimensions"] == 384
    assert ds["chunk_size"] == 180
    assert api.get("/v1/datasets").json()["data"][0]["id"] == ds["id"]
    res = api.patch(f"/v1/datasets/{ds['id']}", {"description": "d"}, format="json")
    assert res.status_code == 200
    assert res.json()["description"] == "d"
    dup = api.post("/v1/datasets", {"name": "Docs"}, format="json")
    assert dup.status_code == 409
    assert dup.json()["error"]["type"] == "conflict"
    bad = api.post(
        "/v1/datasets", {"name": "x", "chunk_size": 50, "chunk_overlap": 60}, format="json"
    )
    assert bad.status_code == 400
    assert api.delete(f"/v1/datasets/{ds['id']}").status_code == 204
    assert api.get(f"/v1/datasets/{ds['id']}").status_code == 404


def test_text_document_is_accepted_deduplicated_and_ingested(api, tenant):
    ds = _dataset(api)
    body = {
        "text": "# Setup\n\nRun `make run` to start everything.",
        "title": "Setup",
        "tags": ["ops"],
    }
    res = api.post(f"/v1/datasets/{ds['id']}/documents", body, format="json")
    assert res.status_code == 202, res.json()
    doc = res.json()
    assert doc["status"] == "queued"
    assert doc["error"] is None
    assert len(doc["content_hash"]) == 64
    again = api.post(f"/v1/datasets/{ds['id']}/documents", body, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == doc["id"]

    assert process_document(doc["id"]) == "ready"
    doc = api.get(f"/v1/documents/{doc['id']}").json()
    assert doc["status"] == "ready"
    assert doc["progress"] == 1.0
    assert doc["chunk_count"] >= 1
    chunks = api.get(f"/v1/documents/{doc['id']}/chunks").json()
    assert chunks["next"] is None
    first = chunks["data"][0]
    assert first["tags"] == ["ops"]
    assert first["text"].startswith("Setup")
    assert "make run" in first["text"]
    assert Chunk.objects.get(pk=first["id"]).embedding is not None


def test_chunks_are_paginated_in_order(api, tenant):
    ds = Dataset.objects.get(pk=_dataset(api)["id"])
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 120 for i in range(12))
    res = api.post(
        f"/v1/datasets/{ds.pk}/documents", {"text": text, "title": "Long"}, format="json"
    )
    process_document(res.json()["id"])
    page = api.get(f"/v1/documents/{res.json()['id']}/chunks?limit=5").json()
    assert [c["index"] for c in page["data"]] == [0, 1, 2, 3, 4]
    nxt = api.get(f"/v1/documents/{res.json()['id']}/chunks?limit=5&cursor={page['next']}").json()
    assert nxt["data"][0]["index"] == 5


def test_multipart_upload_sniffs_type_and_stores_a_generated_name(api, corpus):
    ds = _dataset(api)
    pdf = (corpus / "pdf" / "minimal-document.pdf").read_bytes()
    upload = SimpleUploadedFile("../../etc/passwd.txt", pdf, content_type="text/plain")
    res = api.post(
        f"/v1/datasets/{ds['id']}/documents",
        {
            "file": upload,
            "title": "Minimal",
            "tags": '["a", "b"]',
            "metadata": json.dumps({"k": 1}),
        },
        format="multipart",
    )
    assert res.status_code == 202, res.json()
    body = res.json()
    assert body["mime_type"] == "application/pdf"
    assert body["tags"] == ["a", "b"]
    assert body["metadata"] == {"k": 1}
    doc = Document.objects.get(pk=body["id"])
    assert "passwd" not in doc.file.name
    assert doc.file.name.endswith(".pdf")
    assert process_document(doc.pk) == "ready"


def test_json_and_reingest_and_delete(api):
    ds = _dataset(api)
    res = api.post(
        f"/v1/datasets/{ds['id']}/documents",
        {
            "json": [{"sku": "A1", "name": "Trowel"}, {"sku": "B2", "name": "Rake"}],
            "title": "Items",
        },
        format="json",
    )
    assert res.status_code == 202
    doc_id = res.json()["id"]
    process_document(doc_id)
    first = list(Chunk.objects.filter(document_id=doc_id).values_list("id", "text"))
    assert any("sku: A1" in text for _, text in first)
    res = api.post(f"/v1/documents/{doc_id}/reingest")
    assert res.status_code == 202
    assert res.json()["status"] == "queued"
    process_document(doc_id)
    second = list(Chunk.objects.filter(document_id=doc_id).values_list("text", flat=True))
    assert second == [text for _, text in first]  # same chunks, replaced, not duplicated
    assert api.delete(f"/v1/documents/{doc_id}").status_code == 204
    assert not Chunk.objects.filter(document_id=doc_id).exists()
    assert api.get(f"/v1/documents/{doc_id}").status_code == 404


@pytest.mark.parametrize(
    ("payload", "status", "kind"),
    [
        ({"text": "a", "url": "https://example.com"}, 400, "invalid_request"),
        ({"title": "nothing"}, 400, "invalid_request"),
        ({"text": "   "}, 400, "invalid_request"),
        ({"url": "file:///etc/passwd"}, 400, "invalid_request"),
        ({"url": "http://127.0.0.1:1/"}, 400, "invalid_request"),
        ({"text": "x", "bogus": 1}, 400, "invalid_request"),
    ],
)
def test_bad_json_inputs_are_clear_4xx(api, payload, status, kind):
    ds = _dataset(api)
    res = api.post(f"/v1/datasets/{ds['id']}/documents", payload, format="json")
    assert res.status_code == status, res.json()
    assert res.json()["error"]["type"] == kind
    assert res.json()["error"]["message"].endswith(".")


def test_deeply_nested_json_body_is_400(api):
    ds = _dataset(api)
    body = '{"json": ' + "[" * 10_000 + "]" * 10_000 + ', "title": "deep"}'
    res = api.generic(
        "POST", f"/v1/datasets/{ds['id']}/documents", body, content_type="application/json"
    )
    assert res.status_code == 400, res.content
    assert "nested" in res.json()["error"]["message"]
    shallow = '{"json": ' + "[" * 100 + "]" * 100 + ', "title": "deep"}'
    res = api.generic(
        "POST", f"/v1/datasets/{ds['id']}/documents", shallow, content_type="application/json"
    )
    assert res.status_code == 400
    assert "nested deeper" in res.json()["error"]["message"]


@pytest.mark.parametrize("empty", [{}, [], "", "  "])
def test_an_empty_json_document_is_400_not_a_failed_document_later(api, empty):
    ds = _dataset(api)
    res = api.post(
        f"/v1/datasets/{ds['id']}/documents", {"json": empty, "title": "t"}, format="json"
    )
    assert res.status_code == 400, res.content
    assert res.json()["error"]["message"] == "json is empty: send a value with something in it."
    ok = api.post(f"/v1/datasets/{ds['id']}/documents", {"json": [0], "title": "t"}, format="json")
    assert ok.status_code == 202, ok.content


def test_json_document_size_is_counted_in_bytes(api, settings):
    """Non-ASCII JSON is limited by its UTF-8 size, as uploads are (not by characters)."""
    settings.MAX_UPLOAD_BYTES = 10_000
    ds = _dataset(api)
    body = {"json": {"text": "漢" * 3_000}, "title": "cjk"}  # 3,000 characters, ~9 KB + 4 bytes
    res = api.post(f"/v1/datasets/{ds['id']}/documents", body, format="json")
    assert res.status_code in (201, 202, 200), res.json()
    body = {"json": {"text": "漢" * 4_000}, "title": "cjk"}  # 4,000 characters, ~12 KB
    res = api.post(f"/v1/datasets/{ds['id']}/documents", body, format="json")
    assert res.status_code == 413, res.json()
    assert res.json()["error"]["type"] == "payload_too_large"


def test_oversized_upload_is_413_from_the_header(api, settings):
    settings.MAX_UPLOAD_BYTES = 10_000
    ds = _dataset(api)
    upload = SimpleUploadedFile("big.txt", b"word " * 30_000)
    res = api.post(f"/v1/datasets/{ds['id']}/documents", {"file": upload}, format="multipart")
    assert res.status_code == 413, res.json()
    assert res.json()["error"]["type"] == "payload_too_large"


def test_oversized_upload_is_413_while_streaming_without_a_length(api, settings):
    settings.MAX_UPLOAD_BYTES = 10_000
    ds = _dataset(api)
    upload = SimpleUploadedFile("big.txt", b"word " * 30_000)
    # Lie in the header: the streaming handler must still stop the upload.
    res = api.post(
        f"/v1/datasets/{ds['id']}/documents",
        {"file": upload},
        format="multipart",
        CONTENT_LENGTH="10",
    )
    assert res.status_code in (400, 413)


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("photo.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 415),
        ("program.md", b"\x7fELF\x02\x01\x01" + b"\x00" * 100, 415),
        ("blob.bin", bytes(range(256)) * 4, 415),
        ("empty.txt", b"", 400),
    ],
)
def test_type_is_decided_by_magic_bytes(api, name, content, status):
    ds = _dataset(api)
    upload = SimpleUploadedFile(name, content)
    res = api.post(f"/v1/datasets/{ds['id']}/documents", {"file": upload}, format="multipart")
    assert res.status_code == status, res.json()


def test_pdf_name_with_text_inside_is_ingested_as_text(api):
    ds = _dataset(api)
    upload = SimpleUploadedFile("report.pdf", b"Just plain text pretending to be a PDF.")
    res = api.post(
        f"/v1/datasets/{ds['id']}/documents", {"file": upload, "tags": "x, y"}, format="multipart"
    )
    assert res.status_code == 202
    assert res.json()["mime_type"] == "text/plain"
    assert res.json()["tags"] == ["x", "y"]
    assert process_document(res.json()["id"]) == "ready"


def test_office_formats_without_an_extractor_are_415(api):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("ppt/presentation.xml", "<p/>")
    ds = _dataset(api)
    upload = SimpleUploadedFile("deck.pptx", buf.getvalue())
    res = api.post(f"/v1/datasets/{ds['id']}/documents", {"file": upload}, format="multipart")
    assert res.status_code == 415
    assert "unstructured" in res.json()["error"]["message"]


def test_zip_bomb_docx_is_refused_without_inflating_it(api):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            block = b"\x00" * (1 << 20)
            for _ in range(1024):  # 1 GiB uncompressed, ~1 MB compressed
                fh.write(block)
    ds = _dataset(api)
    upload = SimpleUploadedFile("bomb.docx", buf.getvalue())
    res = api.post(f"/v1/datasets/{ds['id']}/documents", {"file": upload}, format="multipart")
    assert res.status_code == 400, res.json()
    assert "zip bomb" in res.json()["error"]["message"]


def test_read_key_cannot_write(client_for, tenant):
    reader = client_for(tenant, permissions=("read",))
    res = reader.post("/v1/datasets", {"name": "x"}, format="json")
    assert res.status_code == 403


def test_other_tenant_sees_nothing(api, other_api, tenant, other_tenant):
    mine = DatasetFactory(tenant=tenant)
    doc = DocumentFactory(dataset=mine)
    theirs = DatasetFactory(tenant=other_tenant, name="Theirs")
    assert [d["id"] for d in api.get("/v1/datasets").json()["data"]] == [str(mine.pk)]
    for url in (
        f"/v1/datasets/{mine.pk}",
        f"/v1/datasets/{mine.pk}/documents",
        f"/v1/documents/{doc.pk}",
        f"/v1/documents/{doc.pk}/chunks",
    ):
        res = other_api.get(url)
        assert res.status_code == 404, url
        assert res.json()["error"]["type"] == "not_found"
    assert other_api.post(f"/v1/documents/{doc.pk}/reingest").status_code == 404
    assert other_api.delete(f"/v1/documents/{doc.pk}").status_code == 404
    res = other_api.post(
        f"/v1/datasets/{mine.pk}/documents", {"text": "x", "title": "t"}, format="json"
    )
    assert res.status_code == 404
    assert (
        other_api.patch(f"/v1/datasets/{mine.pk}", {"name": "z"}, format="json").status_code == 404
    )
    assert other_api.delete(f"/v1/datasets/{mine.pk}").status_code == 404
    assert Document.objects.filter(pk=doc.pk).exists()
    assert api.get(f"/v1/datasets/{theirs.pk}").status_code == 404


@pytest.mark.parametrize(
    "body", [{"text": "Lunch is at noon."}, {"text": "Lunch.", "title": "  "}, {"json": {"a": 1}}]
)
def test_text_and_json_documents_need_a_title(api, body):
    """API.md: `{"text": "...", "title", "tags"?}` and `{"json": <any JSON>, "title"}`. Without
    one they were stored titled "" and cited as an empty name; a URL keeps its page's title."""
    ds = _dataset(api)
    res = api.post(f"/v1/datasets/{ds['id']}/documents", body, format="json")
    assert res.status_code == 400, res.content
    kind = "text" if "text" in body else "json"
    assert res.json()["error"]["details"]["fields"] == {
        "title": [f"A `{kind}` document needs a title: citations and lists name it."]
    }
    assert not Document.objects.exists()
