"""Citations do not hand out the credentials of a pre-signed URL.

Repro (leakage review): a document ingested from a pre-signed URL (S3 ``X-Amz-Signature``...)
was cited with ``source`` = that URL, and titled by it when the page had no title: every chat
user, a widget's anonymous visitors included, got a working link to the tenant's private
object until it expired. The document keeps the whole URL (a re-fetch needs it); citations and
the default title show it without the credential parameters.
"""

from __future__ import annotations

import pytest

from datasets.models import Document
from datasets.shown_url import shown_url

S3 = (
    "https://bucket.s3.eu-west-1.amazonaws.com/policies/leave.md?response-content-type=text"
    "%2Fmarkdown&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261203"
    "&X-Amz-Date=20261203T120000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=deadbeef"
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (S3, "https://bucket.s3.eu-west-1.amazonaws.com/policies/leave.md?response-content-type=text%2Fmarkdown"),
        ("https://acct.blob.core.windows.net/c/a.pdf?sv=2022-11-02&se=2026-12-04&sr=b&sp=r&sig=abc%3D",
         "https://acct.blob.core.windows.net/c/a.pdf"),
        ("https://d1.cloudfront.net/a.pdf?Expires=1&Signature=x&Key-Pair-Id=K", "https://d1.cloudfront.net/a.pdf"),
        ("https://storage.googleapis.com/b/a.pdf?X-Goog-Algorithm=x&X-Goog-Signature=y", "https://storage.googleapis.com/b/a.pdf"),
        ("https://wiki.example.com/page?id=42&token=s3cret", "https://wiki.example.com/page?id=42"),
        ("https://example.com/docs#access_token=abc", "https://example.com/docs"),
        # No credential: shown exactly as given (a site's own parameters, a section anchor).
        ("https://example.com/search?q=rate+limits&sr=1", "https://example.com/search?q=rate+limits&sr=1"),
        ("https://example.com/guide#throttling", "https://example.com/guide#throttling"),
        ("https://example.com/plain", "https://example.com/plain"),
    ],
)  # fmt: skip
def test_shown_url(url, shown):
    assert shown_url(url) == shown


def test_citations_and_retrieval_show_the_url_without_its_signature(kb, make_key, client):
    doc = kb.documents["Throttling"]
    Document.objects.filter(pk=doc.pk).update(source_type=Document.Source.URL, source_url=S3)
    key = make_key(kb.tenant)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}", "content_type": "application/json"}
    question = "How do I limit anonymous clients per day?"

    res = client.post("/v1/retrieve", {"bot": "helper", "query": question}, **auth)
    assert res.status_code == 200, res.content
    sources = {r["document_id"]: r for r in res.json()["data"]}
    assert str(doc.pk) in sources
    res = client.post("/v1/chat", {"bot": "helper", "message": question}, **auth)
    assert res.status_code == 200, res.content
    cited = [c for c in res.json()["citations"] if c["document_id"] == str(doc.pk)]
    assert cited
    body = res.content.decode() + str(sources)
    assert "X-Amz-Signature" not in body
    assert "deadbeef" not in body
    assert "AKIAEXAMPLE" not in body
    assert cited[0]["source"].startswith(
        "https://bucket.s3.eu-west-1.amazonaws.com/policies/leave.md"
    )
    assert Document.objects.get(pk=doc.pk).source_url == S3  # kept whole for a re-fetch


def test_a_url_document_without_a_title_is_titled_without_the_signature(tenant, settings):
    import http.server

    from datasets.document_reingest import document_create_from_url
    from datasets.tests.factories import DatasetFactory
    from datasets.tests.test_fetch import http_server

    class Markdown(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"# Leave\n\nTwenty-five days a year."
            self.send_response(200)
            self.send_header("Content-Type", "text/markdown")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with http_server(Markdown) as port:
        url = f"http://127.0.0.1:{port}/leave.md?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=ab"
        doc, _ = document_create_from_url(
            tenant=tenant, dataset=DatasetFactory(tenant=tenant), url=url
        )
    assert doc.title == f"http://127.0.0.1:{port}/leave.md"
    assert doc.source_url == url
