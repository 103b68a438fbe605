"""What the documents routes make of requests they cannot take as they are: each is a 400 that
says what is wrong, never a silent choice (the last of two files, an empty list for a misspelt
status, a whitespace title) nor a misleading sentence (a chunked upload's "send a `file`")."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.models import Document

pytestmark = pytest.mark.django_db


def _dataset(api) -> str:
    res = api.post("/v1/datasets", {"name": "Requests"}, format="json")
    assert res.status_code == 201, res.json()
    return res.json()["id"]


def _error(res, status: int = 400) -> str:
    assert res.status_code == status, res.json()
    assert res.json()["error"]["type"] == "invalid_request"
    return res.json()["error"]["message"]


def test_a_misspelt_status_filter_is_400_not_an_empty_list(api, other_api):
    ds = _dataset(api)
    api.post(f"/v1/datasets/{ds}/documents", {"text": "Some text.", "title": "T"}, format="json")
    assert "status must be one of queued, processing, ready, failed" in _error(
        api.get(f"/v1/datasets/{ds}/documents?status=redy")
    )
    assert len(api.get(f"/v1/datasets/{ds}/documents?status=queued").json()["data"]) == 1
    assert other_api.get(f"/v1/datasets/{ds}/documents?status=queued").status_code == 404


def test_two_files_in_one_upload_are_400_not_the_last_one(api):
    ds = _dataset(api)
    files = [SimpleUploadedFile("a.txt", b"First file."), SimpleUploadedFile("b.txt", b"Second.")]
    res = api.post(f"/v1/datasets/{ds}/documents", {"file": files}, format="multipart")
    assert "Send one `file` per request" in _error(res)
    assert not Document.objects.exists()


def test_a_multipart_upload_without_a_length_says_so(api):
    ds = _dataset(api)
    upload = SimpleUploadedFile("a.txt", b"Chunked upload.")
    res = api.post(
        f"/v1/datasets/{ds}/documents", {"file": upload}, format="multipart", CONTENT_LENGTH=""
    )
    assert "Content-Length" in _error(res)


@pytest.mark.parametrize("name", [" .txt", "\u3000.md"])
def test_a_whitespace_file_name_gives_a_visible_title(api, name):
    ds = _dataset(api)
    upload = SimpleUploadedFile(name, b"A note with a blank name.")
    res = api.post(
        f"/v1/datasets/{ds}/documents", {"file": upload, "title": "  "}, format="multipart"
    )
    assert res.status_code == 202, res.json()
    assert res.json()["title"] == name.strip()


def _raw_upload(api, ds: str, filename: bytes):
    """A multipart body written by hand: Django's test client cuts file names to 255 characters."""
    body = (
        b'------b\r\nContent-Disposition: form-data; name="file"; filename="' + filename
        + b'"\r\nContent-Type: text/plain\r\n\r\nA note with a long name.\r\n------b--\r\n'
    )  # fmt: skip
    return api.generic(
        "POST", f"/v1/datasets/{ds}/documents", body,
        content_type="multipart/form-data; boundary=----b",
    )  # fmt: skip


@pytest.mark.parametrize(
    "filename", ["n" * 1000 + ".txt", "é" * 600 + ".md", "x" * 20_000 + ".pdf"]
)
def test_a_file_name_over_the_multipart_header_limit_says_so(api, filename):
    ds = _dataset(api)
    message = _error(_raw_upload(api, ds, filename.encode()))
    assert message.startswith("The file name is too long"), message
    assert "1,024 bytes" in message
    assert "Multipart form parse error" not in message
    assert not Document.objects.exists()


def test_a_long_file_name_within_the_limit_is_taken(api):
    ds = _dataset(api)
    res = _raw_upload(api, ds, b"n" * 850 + b".txt")
    assert res.status_code == 202, res.json()
    assert res.json()["title"].startswith("nnnn")


def test_too_many_files_is_a_400_not_a_500(api):
    ds = _dataset(api)
    files = [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(101)]
    res = api.post(f"/v1/datasets/{ds}/documents", {"file": files}, format="multipart")
    assert "more than 100 files; send one `file` per request" in _error(res)
    assert not Document.objects.exists()


def test_too_many_form_fields_is_a_400_not_a_500(api):
    ds = _dataset(api)
    fields = {f"f{i}": "v" for i in range(1001)}
    upload = SimpleUploadedFile("a.txt", b"Many fields.")
    res = api.post(f"/v1/datasets/{ds}/documents", {"file": upload, **fields}, format="multipart")
    assert "more than 1000 form fields" in _error(res)
    res = api.generic(
        "POST", f"/v1/datasets/{ds}/documents", "&".join(f"f{i}=v" for i in range(1001)),
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert "more than 1000 form fields" in _error(res)
    assert not Document.objects.exists()


def test_a_multipart_type_without_a_boundary_says_so(api):
    ds = _dataset(api)
    body = b'------b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nA.'
    for content_type in ("multipart/form-data", "multipart/form-data; boundary="):
        res = api.generic("POST", f"/v1/datasets/{ds}/documents", body, content_type=content_type)
        message = _error(res)
        assert message.startswith("The Content-Type header names no valid multipart boundary")


def test_a_file_name_that_is_not_utf8_is_named_as_the_likely_cause(api):
    ds = _dataset(api)
    message = _error(_raw_upload(api, ds, "café.txt".encode("latin-1")))
    assert "Send the document as a multipart field named `file`, with a file name in UTF-8" in (
        message
    )


@pytest.mark.parametrize(
    "bad", ["a\x01b", "tab\there", "line\nbreak", "esc\x1b[31m", "c1\x85inside"]
)
def test_control_characters_in_a_title_or_tag_are_refused_as_in_dataset_names(api, bad):
    ds = _dataset(api)
    url = f"/v1/datasets/{ds}/documents"
    json_title = api.post(url, {"text": "Some text.", "title": bad}, format="json")
    assert _error(json_title) == "title: Use printable text only (no control characters)."
    json_tag = api.post(url, {"text": "Some text.", "tags": ["ok", bad]}, format="json")
    assert "Use printable text only (no control characters)." in _error(json_tag)
    upload = SimpleUploadedFile("a.txt", b"Some text.")
    form_title = api.post(url, {"file": upload, "title": bad}, format="multipart")
    assert _error(form_title) == "title: Use printable text only (no control characters)."
    upload = SimpleUploadedFile("a.txt", b"Some text.")
    tags = json.dumps(["ok", bad])
    form_tag = api.post(url, {"file": upload, "tags": tags}, format="multipart")
    assert _error(form_tag) == "tags: Use printable text only (no control characters)."
    assert not Document.objects.exists()


def test_a_multipart_body_cut_short_says_so(api):
    """Django drops a part the body ends inside of: a cut-short upload was told to "send the
    document as a multipart field named `file`", which it had done."""
    ds = _dataset(api)
    b = "XyZ"
    full = (
        f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello world, some text\r\n--{b}--\r\n"
    ).encode()
    route = f"/v1/datasets/{ds}/documents"
    for cut in (len(full) - 12, 120, 70):
        res = api.generic(
            "POST", route, full[:cut], content_type=f"multipart/form-data; boundary={b}"
        )
        assert _error(res).startswith("The multipart body ends before its closing boundary")
    # A complete body without a file part still gets the sentence about `file`.
    fields_only = f'--{b}\r\nContent-Disposition: form-data; name="title"\r\n\r\nT\r\n--{b}--\r\n'
    res = api.generic(
        "POST", route, fields_only.encode(), content_type=f"multipart/form-data; boundary={b}"
    )
    assert _error(res).startswith("Send the document as a multipart field named `file`")
    res = api.generic("POST", route, full, content_type=f"multipart/form-data; boundary={b}")
    assert res.status_code == 202, res.content


@pytest.mark.parametrize("filename", [b"..", b"/", b"", b".", b"notes/"])
def test_a_file_name_django_reduces_to_nothing_is_named_as_the_cause(api, filename):
    """Django drops a file part whose name is nothing once the path is taken out ("..", "/")
    and reads filename="" as a text field: each was told to "send the document as a multipart
    field named `file`", which it had done."""
    ds = _dataset(api)
    res = _raw_upload(api, ds, filename)
    assert _error(res).startswith("file: The file part has no usable file name"), res.json()
    assert list(res.json()["error"]["details"]["fields"]) == ["file"]
    assert not Document.objects.exists()
