"""DRF's own 415 and 405 sentences, and the body ceiling's 413, say what to send instead.

Found walking the README as a new tenant: a form-encoded `POST /v1/auth/token` answered
'Unsupported media type "application/x-www-form-urlencoded" in request.', `DELETE /v1/bots`
'Method "DELETE" not allowed.' and a 55 MB upload "upload files of at most the documented
size" (documented nowhere a client looks)."""

from __future__ import annotations

import json

import pytest

from chatbot_project.bodylimit import _message
from datasets.tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def _error(res, status: int, type_: str) -> str:
    assert res.status_code == status, res.content
    assert res["Content-Type"].startswith("application/json")
    body = res.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == type_
    return body["error"]["message"]


def test_a_json_only_route_asks_for_json(api):
    res = api.post(
        "/v1/auth/token", "username=a&password=b", content_type="application/x-www-form-urlencoded"
    )
    assert _error(res, 415, "unsupported_media_type") == (
        'Content-Type "application/x-www-form-urlencoded" is not accepted here; send the body '
        "as JSON (Content-Type: application/json)."
    )


def test_the_upload_route_names_every_type_it_takes(tenant, api):
    dataset = DatasetFactory(tenant=tenant)
    res = api.post(f"/v1/datasets/{dataset.id}/documents", "hello", content_type="text/plain")
    message = _error(res, 415, "unsupported_media_type")
    assert message.startswith('Content-Type "text/plain" is not accepted here; send the body as ')
    assert "application/json" in message
    assert "multipart/form-data" in message


def test_a_wrong_method_names_the_allowed_ones(tenant, api):
    res = api.delete("/v1/bots")
    assert (
        _error(res, 405, "invalid_request") == "DELETE is not allowed on /v1/bots; use GET or POST."
    )
    assert "DELETE" not in res["Allow"]
    dataset = DatasetFactory(tenant=tenant)
    res = api.put(f"/v1/datasets/{dataset.id}", {}, format="json")
    assert _error(res, 405, "invalid_request") == (
        f"PUT is not allowed on /v1/datasets/{dataset.id}; use GET, PATCH or DELETE."
    )


def test_the_body_ceilings_413_names_the_file_size_limit(settings):
    settings.MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    settings.MAX_REQUEST_BODY_BYTES = 11 * 1024 * 1024
    message = json.loads(_message(settings.MAX_REQUEST_BODY_BYTES))["error"]["message"]
    assert message == (
        "The request body is larger than 11 MB, the most this server accepts; a document file "
        "may be at most 10 MB."
    )


def test_a_trailing_slash_is_named(api):
    res = api.get("/v1/bots/")
    assert _error(res, 404, "not_found") == (
        "No route matches this path; the route is /v1/bots, without the trailing slash."
    )
    res = api.post("/v1/chat/", {"bot": "x", "message": "y"}, format="json")
    assert _error(res, 404, "not_found") == (
        "No route matches this path; the route is /v1/chat, without the trailing slash."
    )
    # A path that is no route either way keeps the plain sentence.
    res = api.get("/v1/nothing-here/")
    assert _error(res, 404, "not_found") == "No route matches this path. See /docs for the API."


def test_a_slug_where_an_id_goes_is_named(api):
    res = api.get("/v1/bots/support")
    assert _error(res, 404, "not_found") == (
        "No route matches this path: 'support' is not an id (routes take UUIDs; GET /v1/bots "
        "lists them)."
    )
    assert api.get("/v1/bots/support/").json() == res.json()  # a trailing slash too
    res = api.post("/v1/datasets/Handbook/documents", {"text": "x"}, format="json")
    assert _error(res, 404, "not_found") == (
        "No route matches this path: 'Handbook' is not an id (routes take UUIDs; GET "
        "/v1/datasets lists them)."
    )
    # No listing route for messages: the sentence says what it can.
    res = api.post("/v1/messages/12/feedback", {"rating": "up"}, format="json")
    assert _error(res, 404, "not_found") == (
        "No route matches this path: '12' is not an id (routes take UUIDs)."
    )
