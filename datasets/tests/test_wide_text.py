"""UTF-16 and UTF-32 text (Windows' "Unicode" text files, PowerShell's ``>``) is text: it is
ingested, not refused as binary data for the zero bytes half of its bytes are; binary data
behind a UTF-16 byte-order mark is still refused."""

from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.ingestion import process_document
from datasets.models import Chunk

pytestmark = pytest.mark.django_db

TEXT = "Café opening hours\n\nThe café opens at 8 and closes at 18, Monday to Saturday.\n"


def _upload(api, name: str, content: bytes):
    res = api.post("/v1/datasets", {"name": "Wide"}, format="json")
    assert res.status_code == 201, res.json()
    upload = SimpleUploadedFile(name, content)
    return api.post(
        f"/v1/datasets/{res.json()['id']}/documents", {"file": upload}, format="multipart"
    )


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("hours.txt", TEXT.encode("utf-16"), "text/plain"),  # with a BOM, little-endian
        ("hours.txt", TEXT.encode("utf-16-le"), "text/plain"),  # no BOM
        ("hours.txt", TEXT.encode("utf-16-be"), "text/plain"),
        ("hours.txt", TEXT.encode("utf-32"), "text/plain"),
        ("hours.md", ("# Hours\n\n" + TEXT).encode("utf-16"), "text/markdown"),
        ("hours.json", '{"hours": "8 to 18, café"}'.encode("utf-16"), "application/json"),
        ("hours.html", f"<html><body><p>{TEXT}</p></body></html>".encode("utf-16"), "text/html"),
    ],
)
def test_utf16_and_utf32_text_is_ingested(api, name, content, mime):
    res = _upload(api, name, content)
    assert res.status_code == 202, res.json()
    assert res.json()["mime_type"] == mime
    assert process_document(res.json()["id"]) == "ready"
    chunks = Chunk.objects.filter(document_id=res.json()["id"])
    text = " ".join(chunks.values_list("text", flat=True))
    assert "café" in text
    assert "\x00" not in text


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe" + bytes(range(256)) * 4,
        b"\xfe\xff" + os.urandom(9000),
        b"\x01\x00\x02\x00\x03\x00\x04\x00" * 100,
    ],
)
def test_binary_data_dressed_as_utf16_is_still_refused(api, content):
    res = _upload(api, "notes.txt", content)
    assert res.status_code == 415, res.json()
    assert res.json()["error"]["type"] == "unsupported_media_type"


def test_other_tenant_cannot_see_a_utf16_document(api, other_api):
    res = _upload(api, "hours.txt", TEXT.encode("utf-16"))
    assert res.status_code == 202, res.json()
    assert other_api.get(f"/v1/documents/{res.json()['id']}").status_code == 404
