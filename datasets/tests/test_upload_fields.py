"""A multipart upload names only the fields API.md lists (`file`, `title`, `tags`, `metadata`):
any other part is a 400 naming it, as an unknown field of a JSON body is (StrictSerializer),
never silently dropped (a misspelt `tittle` gave a 202 document titled by its file name)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.models import Document

pytestmark = pytest.mark.django_db


def _url(api) -> str:
    res = api.post("/v1/datasets", {"name": "Uploads"}, format="json")
    assert res.status_code == 201, res.json()
    return f"/v1/datasets/{res.json()['id']}/documents"


def _refused(res, *names: str) -> None:
    assert res.status_code == 400, res.json()
    error = res.json()["error"]
    assert error["type"] == "invalid_request"
    assert set(error["details"]["fields"]) == set(names)
    assert error["message"].startswith(f"{sorted(names)[0]}: Unknown field")
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [{"tittle": "Holiday policy"}, {"tag": "hr"}, {"meta": "{}"}, {"url": "https://example.com"}],
)
def test_a_misspelt_or_unknown_form_field_is_refused(api, extra):
    upload = SimpleUploadedFile("policy.txt", b"Sixteen weeks of parental leave.")
    res = api.post(_url(api), {"file": upload, **extra}, format="multipart")
    _refused(res, *extra)


def test_a_second_file_part_under_another_name_is_refused(api):
    files = {
        "file": SimpleUploadedFile("a.txt", b"First file."),
        "attachment": SimpleUploadedFile("b.txt", b"Second file."),
    }
    _refused(api.post(_url(api), files, format="multipart"), "attachment")


def test_the_documented_fields_are_still_taken(api, other_api):
    upload = SimpleUploadedFile("policy.txt", b"Sixteen weeks of parental leave.")
    url = _url(api)
    body = {"file": upload, "title": "Leave", "tags": "hr,policy", "metadata": '{"k": 1}'}
    res = api.post(url, body, format="multipart")
    assert res.status_code == 202, res.json()
    assert (res.json()["title"], res.json()["tags"]) == ("Leave", ["hr", "policy"])
    assert res.json()["metadata"] == {"k": 1}
    # Another tenant's dataset is still a 404 first, whatever the fields.
    upload = SimpleUploadedFile("x.txt", b"Other.")
    res = other_api.post(url, {"file": upload, "tittle": "x"}, format="multipart")
    assert res.status_code == 404


@pytest.mark.parametrize("name", ["title", "tags", "metadata"])
def test_a_text_field_sent_as_a_file_is_a_400_not_a_500(api, name):
    # curl -F title=@notes.txt (a file part) where -F title=... was meant: a 500 for title
    # and tags (a file object has no .strip()), a misleading "not a JSON object" for metadata.
    upload = SimpleUploadedFile("policy.txt", b"Sixteen weeks of parental leave.")
    part = SimpleUploadedFile("notes.txt", b"hr")
    res = api.post(_url(api), {"file": upload, name: part}, format="multipart")
    assert res.status_code == 400, res.content
    error = res.json()["error"]
    assert error["message"] == f"{name}: Send it as a text field, not a file."
    assert set(error["details"]["fields"]) == {name}
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("name", "values"), [("title", ["Leave", "Holidays"]), ("metadata", ['{"a": 1}', '{"b": 2}'])]
)
def test_a_title_or_metadata_given_twice_is_refused_not_the_last_one_taken(api, name, values):
    upload = SimpleUploadedFile("policy.txt", b"Sixteen weeks of parental leave.")
    res = api.post(_url(api), {"file": upload, name: values}, format="multipart")
    assert res.status_code == 400, res.content
    assert res.json()["error"]["message"] == f"{name}: Send it once; it was sent 2 times."
    assert not Document.objects.exists()


def test_tags_may_still_be_repeated(api):
    upload = SimpleUploadedFile("policy.txt", b"Sixteen weeks of parental leave.")
    res = api.post(_url(api), {"file": upload, "tags": ["hr", "policy"]}, format="multipart")
    assert res.status_code == 202, res.json()
    assert res.json()["tags"] == ["hr", "policy"]
