"""An uploaded text file holding only whitespace is a 400 at once, like an empty file and like
whitespace-only `text` in a JSON body: it was taken (202) and failed in the worker ("No text
could be extracted"), a failed document counted against the tenant's quota until deleted."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.filetypes import SNIFF_BYTES
from datasets.ingestion import process_document
from datasets.models import Document

pytestmark = pytest.mark.django_db

BLANK = "The file holds only whitespace; there is nothing to ingest."


def _url(api) -> str:
    res = api.post("/v1/datasets", {"name": "Blank"}, format="json")
    assert res.status_code == 201, res.json()
    return f"/v1/datasets/{res.json()['id']}/documents"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"   \n\n\t "),
        ("notes.md", b"\n\n\r\n"),
        ("data.json", b"  \n"),
        ("page.html", b" \n "),
        ("wide.txt", "\u3000\u00a0\n".encode()),  # ideographic and no-break spaces
        ("bom.txt", b"\xef\xbb\xbf  \n"),  # a UTF-8 byte order mark, then spaces
        ("utf16.txt", "  \n ".encode("utf-16")),
    ],
)
def test_a_whitespace_only_file_is_a_400(api, name, content):
    res = api.post(_url(api), {"file": SimpleUploadedFile(name, content)}, format="multipart")
    assert res.status_code == 400, res.json()
    assert res.json()["error"] == {"type": "invalid_request", "message": BLANK}
    assert not Document.objects.exists()


def test_text_after_a_long_blank_start_is_still_taken(api):
    content = b" " * (SNIFF_BYTES + 10) + b"Parents get sixteen weeks of leave."
    res = api.post(_url(api), {"file": SimpleUploadedFile("late.txt", content)}, format="multipart")
    assert res.status_code == 202, res.json()
    assert process_document(res.json()["id"], use_lease=False) == "ready"


def test_a_short_file_with_text_is_taken(api):
    res = api.post(_url(api), {"file": SimpleUploadedFile("a.txt", b"  ok  ")}, format="multipart")
    assert res.status_code == 202, res.json()


EMPTY_JSON = 'The JSON file holds an empty value ({}, [] or ""); there is nothing to ingest.'


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("data.json", b"{}"),
        ("data.json", b"  [ ]\n"),
        ("data.json", b'"  "'),
        ("data.txt", b"{ }"),  # read as JSON by its content
    ],
)
def test_a_json_file_of_an_empty_value_is_a_400_as_in_a_json_body(api, name, content):
    # {"json": {}} in a JSON body is refused at once (document_create_from_json); the same
    # value uploaded as a file was taken and failed in the worker.
    res = api.post(_url(api), {"file": SimpleUploadedFile(name, content)}, format="multipart")
    assert res.status_code == 400, res.json()
    assert res.json()["error"] == {"type": "invalid_request", "message": EMPTY_JSON}
    assert not Document.objects.exists()


@pytest.mark.parametrize("content", [b'{"a": 1}', b"[0]", b'{}\n{"a": 1}\n', b"false", b"null"])
def test_json_files_with_something_in_them_are_taken(api, content):
    res = api.post(
        _url(api), {"file": SimpleUploadedFile("data.json", content)}, format="multipart"
    )
    assert res.status_code == 202, res.json()
