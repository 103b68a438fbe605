"""A blank tag ("" or only spaces) is a 400 naming it, in a JSON body and in a multipart upload
alike. Before, JSON refused it while uploads dropped it silently (`a,,b` became `a, b`), so the
same client mistake was an error on one route and a quietly changed document on the other."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.models import Document

pytestmark = pytest.mark.django_db

BLANK = "A tag cannot be empty or only spaces; leave it out."


def _dataset(api) -> str:
    res = api.post("/v1/datasets", {"name": "Tags"}, format="json")
    assert res.status_code == 201, res.json()
    return res.json()["id"]


def _refused_at(res, index: int) -> None:
    assert res.status_code == 400, res.json()
    error = res.json()["error"]
    assert error["type"] == "invalid_request"
    assert error["message"] == f"tags: {index}: {BLANK}"
    assert error["details"] == {"fields": {"tags": {str(index): [BLANK]}}}


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_tag_in_a_json_body_is_400_naming_it(api, blank):
    url = f"/v1/datasets/{_dataset(api)}/documents"
    _refused_at(api.post(url, {"text": "Some text.", "tags": ["ok", blank]}, format="json"), 1)
    _refused_at(api.post(url, {"url": "https://example.com/", "tags": [blank]}, format="json"), 0)
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("tags", "index"),
    [
        ("ok,,other", 1),  # comma-separated
        ("ok, ", 1),  # a trailing comma
        (json.dumps(["ok", ""]), 1),  # a JSON list
        (json.dumps(["   "]), 0),
        (["ok", ""], 1),  # repeated fields
        (["ok", "  "], 1),
    ],
)
def test_a_blank_tag_in_an_upload_is_400_naming_it_not_dropped(api, other_api, tags, index):
    url = f"/v1/datasets/{_dataset(api)}/documents"
    upload = SimpleUploadedFile("a.txt", b"Some text.")
    _refused_at(api.post(url, {"file": upload, "tags": tags}, format="multipart"), index)
    assert not Document.objects.exists()
    # Another tenant's dataset stays a 404, whatever the tags.
    upload = SimpleUploadedFile("a.txt", b"Some text.")
    assert (
        other_api.post(url, {"file": upload, "tags": tags}, format="multipart").status_code == 404
    )


def test_an_empty_tags_field_is_no_tags_and_tags_are_stripped(api):
    """A web form's blank `tags` input sends an empty field: that is no tags, not a blank tag."""
    url = f"/v1/datasets/{_dataset(api)}/documents"
    for n, tags in enumerate(["", "  ", "[]"]):
        upload = SimpleUploadedFile("a.txt", f"Text number {n}.".encode())
        res = api.post(url, {"file": upload, "tags": tags}, format="multipart")
        assert res.status_code == 202, res.json()
        assert res.json()["tags"] == []
    upload = SimpleUploadedFile("b.txt", b"Tagged text.")
    res = api.post(url, {"file": upload, "tags": " hr , policies "}, format="multipart")
    assert res.status_code == 202, res.json()
    assert res.json()["tags"] == ["hr", "policies"]
    res = api.post(
        url, {"text": "More text.", "title": "More", "tags": [" hr ", "policies"]}, format="json"
    )
    assert res.status_code == 202, res.json()
    assert res.json()["tags"] == ["hr", "policies"]
