"""Hostile files a customer may post, found by black-box testing: each must end ``failed`` with a
sentence, or ``ready`` with what it holds, never an unexpected crash or a document left
``processing``."""

from __future__ import annotations

import http.server
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets import services
from datasets.embeddings import EmbeddingError
from datasets.ingestion import process_document
from datasets.models import Chunk, Document
from datasets.tasks import ingest_document
from datasets.tests.factories import DatasetFactory
from datasets.tests.test_fetch import http_server

pytestmark = pytest.mark.django_db


def _ingest_file(tenant, tmp_path, name: str, content: bytes) -> Document:
    """Post ``content`` as a file and run the worker's task on it, as a worker would."""
    path = tmp_path / name
    path.write_bytes(content)
    dataset = DatasetFactory(tenant=tenant)
    doc, created = services.document_create_from_path(tenant=tenant, dataset=dataset, path=path)
    assert created
    ingest_document.apply(args=[str(doc.pk)])
    doc.refresh_from_db()
    return doc


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        # Escapes json.loads decodes into what a chunk cannot hold: NUL (PostgreSQL text) and
        # an unpaired surrogate (no UTF-8; the tokenizer raised TypeError).
        (b'{"note": "before\\u0000after the NUL character"}', "before after the NUL"),
        (b'{"note": "a lone \\ud800 surrogate in a record"}', "a lone \ufffd surrogate"),
        (b'{"k\\u0000ey": "a NUL in a key"}', "k ey: a NUL in a key"),
    ],
)
def test_json_escapes_of_characters_a_chunk_cannot_hold_are_cleaned(
    tenant, tmp_path, content, expect
):
    doc = _ingest_file(tenant, tmp_path, "data.json", content)
    assert doc.status == "ready", doc.error
    assert expect in Chunk.objects.get(document=doc).text


def test_json_with_an_integer_too_long_to_convert_fails_with_a_sentence(tenant, tmp_path):
    """Python refuses to parse integers over 4,300 digits with a plain ValueError (no ``msg``
    or ``lineno``, which the error sentence read: AttributeError, "failed unexpectedly")."""
    doc = _ingest_file(tenant, tmp_path, "big.json", b'{"n": ' + b"9" * 5000 + b"}")
    assert doc.status == "failed"
    assert doc.error == (
        "The JSON holds a number longer than 4,300 digits, which cannot be read; store it as a "
        "string."
    )


@pytest.mark.parametrize(
    ("crash", "expect"),
    [
        (KeyError("boom"), "Ingestion failed unexpectedly (KeyError); it has been logged."),
        # A provider outage, which the worker's task retries later: nobody retries it here.
        (
            EmbeddingError("The embedding provider is unavailable.", retryable=True),
            "The embedding provider is unavailable. Re-ingest it later.",
        ),
    ],
)
def test_ingest_sync_records_a_failed_run_and_goes_on(tenant, tmp_path, monkeypatch, crash, expect):
    """``ingest --sync`` runs the pipeline without the worker's task around it: a crash while
    processing one file left that document ``processing`` with no error for ever, and the
    files after it ``queued``, with a traceback instead of the command's summary."""
    from datasets.extraction import text as text_extraction

    real = text_extraction.read_text

    def read_text(path, declared=None):
        if "boom" in path.read_bytes().decode():
            raise crash
        return real(path, declared)

    monkeypatch.setattr(text_extraction, "read_text", read_text)
    (tmp_path / "a_boom.txt").write_text("boom goes this file")
    (tmp_path / "b_fine.txt").write_text("This file is fine and has text.")
    with pytest.raises(CommandError, match="0 refused, 1 failed"):
        call_command(
            "ingest", "--tenant", tenant.slug, "--dataset", "Crash", str(tmp_path), "--sync"
        )
    docs = {d.original_filename: d for d in Document.objects.filter(dataset__name="Crash")}
    assert docs["a_boom.txt"].status == "failed"
    assert docs["a_boom.txt"].error.startswith(expect)
    assert docs["b_fine.txt"].status == "ready"


@contextmanager
def _page_server(body: bytes, content_type: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        yield f"http://127.0.0.1:{port}/page.html"


@pytest.mark.parametrize(
    ("header", "encoding"),
    [
        # A page in Windows-1252 saying so twice (as most such pages do): the stored copy is
        # re-encoded as UTF-8, and the <meta> still said windows-1252: read as "trÃ¨s".
        ("text/html; charset=windows-1252", "cp1252"),
        # A server that knows better than the page (the HTTP header wins, as in browsers).
        ("text/html; charset=utf-8", "utf-8"),
    ],
)
def test_a_fetched_page_is_read_in_the_charset_of_its_http_header(
    tenant, settings, header, encoding
):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    page = (
        '<html><head><meta charset="windows-1252"><title>Menu</title></head>'
        "<body><p>Le café est très bon.</p></body></html>"
    ).encode(encoding)
    dataset = DatasetFactory(tenant=tenant)
    with _page_server(page, header) as url:
        doc, _ = services.document_create_from_url(tenant=tenant, dataset=dataset, url=url)
    assert process_document(doc.pk) == "ready"
    assert "Le café est très bon." in Chunk.objects.get(document=doc).text
    # Re-ingesting reads the stored copy the same way.
    Document.objects.filter(pk=doc.pk).update(status="queued")
    assert process_document(doc.pk) == "ready"
    assert "Le café est très bon." in Chunk.objects.get(document=doc).text


@pytest.mark.parametrize(
    ("page", "given", "expect"),
    [
        (b"<html><head><title>\n  Caf&eacute; menu &amp; prices </title></head><p>x</p>", "",
         "Café menu & prices"),
        (b"<html><head><title>Menu</title></head><p>x</p>", "Our menu", "Our menu"),
        (b"<html><p>no title here</p></html>", "", "URL"),
    ],
)  # fmt: skip
def test_a_fetched_page_is_called_by_its_title(tenant, settings, page, given, expect):
    # It was called by its URL whatever its <title> said (citations showed the URL).
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    dataset = DatasetFactory(tenant=tenant)
    with _page_server(page, "text/html; charset=utf-8") as url:
        doc, _ = services.document_create_from_url(
            tenant=tenant, dataset=dataset, url=url, title=given
        )
    assert doc.title == (url if expect == "URL" else expect)


@contextmanager
def _echo_server():
    """Answers every path with the request line's path (as sent); ``/moved`` redirects to
    ``/köln`` with the Location's UTF-8 bytes raw, as many servers send it."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/köln".encode().decode("latin-1"))
                self.end_headers()
                return
            body = f"You asked for {self.path} here.".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        yield f"http://127.0.0.1:{port}", seen


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        # http.client sends the request line as ASCII: UnicodeEncodeError, a 500.
        ("/wiki/Köln?q=ü", "/wiki/K%C3%B6ln?q=%C3%BC"),
        ("/moved", "/k%C3%B6ln"),
        # A space was refused by http.client as "the server could not be reached" (502).
        ("/a b", "/a%20b"),
        # What was sendable before is sent as it was.
        ("/k%C3%B6ln?a=1&b=[x]|y", "/k%C3%B6ln?a=1&b=[x]|y"),
    ],
)
def test_urls_with_characters_outside_ascii_are_fetched_percent_encoded(api, settings, path, sent):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    dataset = api.post("/v1/datasets", {"name": "Web"}, format="json").json()
    with _echo_server() as (base, seen):
        res = api.post(
            f"/v1/datasets/{dataset['id']}/documents", {"url": base + path}, format="json"
        )
    assert res.status_code == 202, res.json()
    assert seen[-1] == sent
    assert res.json()["source_url"] == base + path


def test_an_absurdly_long_heading_is_not_copied_whole_into_every_chunk():
    """A Markdown file of one 500 KB heading line and 200 KB of text under it: every chunk's
    metadata held the whole heading (155 MB of rows for a 0.7 MB upload, and as much in every
    /v1/retrieve answer citing them)."""
    from datasets.chunking import HEADING_METADATA_CHARS, chunk_blocks
    from datasets.extraction.markdown import extract_text

    body = "".join(f"Sentence number {i} of the body goes here.\n\n" for i in range(5000))
    drafts = list(chunk_blocks(extract_text("# " + "word " * 100_000 + "\n\n" + body), title="t"))
    assert len(drafts) > 100
    for draft in drafts:
        (heading,) = draft.metadata["headings"]
        assert len(heading) == HEADING_METADATA_CHARS
        assert heading.startswith("word word")
        assert heading.endswith("…")
    assert sum(len(d.text) for d in drafts) < 2 * len(body)


def test_ingest_refuses_an_empty_target_instead_of_the_working_directory(
    tenant, tmp_path, monkeypatch
):
    """``ingest ... "$FOLDER"`` with the variable unset passes "": Path("") is ".", so every
    file of the working directory went in."""
    (tmp_path / "notes.txt").write_text("A file that happens to be in the working directory.")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match="An empty PATH_OR_URL was given"):
        call_command("ingest", "", tenant=tenant.slug, dataset="Inbox", sync=True)
    assert not Document.objects.exists()


@pytest.mark.parametrize("padding", ["", " "])  # an even and an odd number of bytes
def test_an_html_file_whose_meta_claims_utf16_is_read_as_the_utf8_it_is(tenant, tmp_path, padding):
    page = (
        '<html><head><meta charset="utf-16"></head>'
        f"<body><p>Hello world, the café opens at 8.</p></body></html>{padding}"
    )
    doc = _ingest_file(tenant, tmp_path, "page.html", page.encode())
    assert doc.status == "ready", doc.error
    assert "Hello world, the café opens at 8." in Chunk.objects.get(document=doc).text


def test_a_json_lines_file_is_read_record_by_record(tenant, tmp_path):
    """``.jsonl`` is sniffed as JSON, whose parser stopped at the second line: "The file is
    not valid JSON (Extra data at line 2)." for every JSON Lines file."""
    lines = [
        '{"question": "How do I reset my password?", "answer": "Use the link on the login page."}',
        '{"question": "Can I change my e-mail address?", "answer": "Yes, in your profile."}',
        "",
    ]
    doc = _ingest_file(tenant, tmp_path, "faq.jsonl", "\n".join(lines).encode())
    assert doc.status == "ready", doc.error
    text = "\n".join(Chunk.objects.filter(document=doc).values_list("text", flat=True))
    assert "Record 1" in text
    assert "question: Can I change my e-mail address?" in text
    assert "answer: Use the link on the login page." in text


def test_json_with_extra_data_that_is_not_json_lines_still_fails_with_a_sentence(tenant, tmp_path):
    doc = _ingest_file(tenant, tmp_path, "data.json", b'{"a": 1}\nnot json at all\n')
    assert doc.status == "failed"
    assert doc.error == "The file is not valid JSON (Extra data at line 2)."


def test_html_nested_absurdly_deep_fails_with_a_sentence_before_it_is_parsed(tenant, tmp_path):
    # 100k nested <div>s (1.1 MB) held a worker for minutes: the parser's time grows with the
    # square of the depth. Refused in milliseconds instead, with a sentence.
    deep = b"<html><body>" + b"<div>" * 100_000 + b"hello" + b"</div>" * 100_000
    doc = _ingest_file(tenant, tmp_path, "deep.html", deep)
    assert doc.status == Document.Status.FAILED
    assert "nests elements more than 5,000 levels deep" in doc.error


@pytest.mark.parametrize(
    "html",
    [
        "<p>para " * 20_000,  # unclosed <p>s do not nest
        "<ul>" + "<li>item " * 20_000 + "</ul>",
        "<script>" + "'<div>'+" * 20_000 + "</script><div>ok</div>",  # strings, not elements
        "<br><img src=x><hr>" * 10_000,
    ],
)
def test_long_flat_html_is_not_taken_for_deep(html):
    from datasets.extraction.html import MAX_HTML_DEPTH, nesting_depth

    assert nesting_depth(html, MAX_HTML_DEPTH) <= 2


def test_a_markdown_file_of_headings_only_fails_without_blaming_a_scan(tenant, tmp_path):
    doc = _ingest_file(tenant, tmp_path, "toc.md", b"# Title\n\n## Part one\n\n## Part two\n")
    assert doc.status == Document.Status.FAILED
    assert doc.error == (
        "No text could be extracted from this document: it is empty, or holds only headings or "
        "markup."
    )
