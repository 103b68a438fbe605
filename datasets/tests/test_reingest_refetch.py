"""`POST /v1/documents/{id}/reingest` with `{"refetch": true}` fetches a URL document's page
again (same fetch rules as creation: SSRF checks, caps) instead of re-reading the stored copy,
which a re-ingest without it still does. Before, a page that had changed could only be taken in
by deleting the document and posting its URL again. Local HTTP server only."""

from __future__ import annotations

import hashlib
import http.server

import pytest

from datasets.ingestion import process_document
from datasets.models import Chunk, Document
from datasets.tests.test_fetch import http_server

pytestmark = pytest.mark.django_db

PAGES = {
    "/hours.html": "<html><h1>Hours</h1><p>Open weekdays from 8 to 18.</p></html>",
    "/other.html": "<html><h1>Other</h1><p>Closed on public holidays.</p></html>",
}


class Site:
    """A local site whose pages the test can change; counts requests."""

    def __init__(self) -> None:
        self.pages = dict(PAGES)
        self.requests = 0
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests += 1
                page = site.pages.get(self.path)
                body = (page or "gone").encode()
                self.send_response(200 if page is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.handler = Handler


@pytest.fixture
def site(settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    s = Site()
    with http_server(s.handler) as port:
        s.base = f"http://127.0.0.1:{port}"
        yield s


def _url_document(api, site, path="/hours.html", dataset=None) -> tuple[str, str]:
    ds = dataset or api.post("/v1/datasets", {"name": "Web"}, format="json").json()["id"]
    res = api.post(f"/v1/datasets/{ds}/documents", {"url": site.base + path}, format="json")
    assert res.status_code == 202, res.json()
    assert process_document(res.json()["id"]) == "ready"
    return ds, res.json()["id"]


def _text(doc_id: str) -> str:
    return " ".join(Chunk.objects.filter(document_id=doc_id).values_list("text", flat=True))


def _refetch(api, doc_id: str, body=None):
    return api.post(f"/v1/documents/{doc_id}/reingest", body or {"refetch": True}, format="json")


def test_refetch_takes_in_the_page_as_it_is_now(api, site, django_capture_on_commit_callbacks):
    _, doc_id = _url_document(api, site)
    first = Document.objects.get(pk=doc_id)
    site.pages["/hours.html"] = "<html><h1>Hours</h1><p>Open weekdays from 9 to 17.</p></html>"

    # Without refetch: the stored copy, as before (no request to the site).
    seen = site.requests
    assert api.post(f"/v1/documents/{doc_id}/reingest").status_code == 202
    assert process_document(doc_id) == "ready"
    assert "8 to 18" in _text(doc_id)
    assert site.requests == seen

    with django_capture_on_commit_callbacks(execute=True):
        res = _refetch(api, doc_id)
    assert res.status_code == 202, res.json()
    body = res.json()
    assert body["status"] == "queued"
    new_bytes = site.pages["/hours.html"].encode()
    assert body["content_hash"] == hashlib.sha256(new_bytes).hexdigest()
    assert body["size_bytes"] == len(new_bytes)
    assert body["title"] == first.title  # the document's own fields are kept
    assert site.requests == seen + 1
    assert process_document(doc_id) == "ready"
    assert "9 to 17" in _text(doc_id)
    assert "8 to 18" not in _text(doc_id)
    document = Document.objects.get(pk=doc_id)
    assert document.file.name != first.file.name
    assert not first.file.storage.exists(first.file.name)  # the old copy is removed


def test_refetch_repairs_a_missing_stored_file(api, site):
    _, doc_id = _url_document(api, site)
    Document.objects.get(pk=doc_id).file.delete(save=False)
    assert api.post(f"/v1/documents/{doc_id}/reingest").status_code == 409
    assert _refetch(api, doc_id).status_code == 202
    assert process_document(doc_id) == "ready"
    assert Document.objects.get(pk=doc_id).error == ""


def test_refetch_follows_the_fetch_rules_and_leaves_the_document_alone(api, site, settings):
    _, doc_id = _url_document(api, site)
    before = api.get(f"/v1/documents/{doc_id}").json()
    seen = site.requests

    settings.FETCH_ALLOWED_NETWORKS = []  # the internal address is refused, as at creation
    res = _refetch(api, doc_id)
    assert res.status_code == 400, res.json()
    assert "internal" in res.json()["error"]["message"]
    assert site.requests == seen  # never connected
    assert api.get(f"/v1/documents/{doc_id}").json() == before

    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    del site.pages["/hours.html"]  # the page is gone
    res = _refetch(api, doc_id)
    assert res.status_code == 502, res.json()
    assert res.json()["error"]["type"] == "upstream_error"
    assert api.get(f"/v1/documents/{doc_id}").json() == before


def test_refetch_input(api, other_api, site):
    ds, doc_id = _url_document(api, site)
    text = api.post(
        f"/v1/datasets/{ds}/documents", {"text": "Hi there.", "title": "T"}, format="json"
    ).json()
    res = _refetch(api, text["id"])
    assert res.status_code == 400, res.json()
    assert res.json()["error"]["message"] == (
        "refetch: Only a document created from a URL can be fetched again. Re-ingest this one "
        "without refetch."
    )
    assert "refetch" in res.json()["error"]["details"]["fields"]
    res = _refetch(api, doc_id, {"refech": True})
    assert res.status_code == 400
    assert "refech" in res.json()["error"]["message"]
    assert _refetch(api, doc_id, {"refetch": False}).status_code == 202
    assert _refetch(other_api, doc_id).status_code == 404


def test_refetch_to_the_content_of_another_document_is_409(api, site):
    ds, doc_id = _url_document(api, site)
    _, other_id = _url_document(api, site, "/other.html", dataset=ds)
    site.pages["/hours.html"] = site.pages["/other.html"]
    res = _refetch(api, doc_id)
    assert res.status_code == 409, res.json()
    assert res.json()["error"]["details"] == {"document_id": other_id}
    assert Document.objects.get(pk=doc_id).status == Document.Status.READY


def test_refetch_is_not_one_more_document_but_its_growth_counts(api, site, tenant):
    _, doc_id = _url_document(api, site)
    tenant.quotas = {"max_documents": 1, "max_storage_mb": 1}
    tenant.save(update_fields=["quotas"])
    assert _refetch(api, doc_id).status_code == 202  # at max_documents: not refused
    assert process_document(doc_id) == "ready"
    site.pages["/hours.html"] = "<html><p>" + "Open. " * 200_000 + "</p></html>"  # 1.2 MB
    res = _refetch(api, doc_id)
    assert res.status_code == 409, res.json()
    assert res.json()["error"]["details"]["quota"] == "max_storage_mb"
    assert Document.objects.get(pk=doc_id).size_bytes == len(PAGES["/hours.html"])


def test_a_document_deleted_while_its_page_is_fetched_again_is_a_404(api, site, monkeypatch):
    """Repro (ops review): a DELETE landing during the refetch's download (up to
    FETCH_TIMEOUT_SECONDS) made the re-ingest a 500 (Document.DoesNotExist from
    refresh_from_db); the fetched file is removed either way."""
    from pathlib import Path

    from django.conf import settings

    from datasets import document_reingest

    _, doc_id = _url_document(api, site)
    real = document_reingest._fetch

    def fetch_then_delete(url, path):
        out = real(url, path)
        Document.objects.filter(pk=doc_id).delete()
        return out

    monkeypatch.setattr(document_reingest, "_fetch", fetch_then_delete)
    files = set(Path(settings.MEDIA_ROOT).rglob("*"))
    res = api.post(f"/v1/documents/{doc_id}/reingest", {"refetch": True}, format="json")
    assert res.status_code == 404, res.content
    assert res.json()["error"]["type"] == "not_found"
    assert set(Path(settings.MEDIA_ROOT).rglob("*")) == files
