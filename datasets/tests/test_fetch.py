"""SSRF: URL ingestion must never connect to internal addresses, in any spelling.

A real listener on 127.0.0.1 (and one on 127.0.0.2 for the redirect case) counts connections;
every attempt must fail with a clear error and the listeners must see zero connections.
"""

from __future__ import annotations

import http.server
import socket
import threading
from contextlib import contextmanager

import pytest

from datasets.fetch import FetchError, address_is_public, fetch_to_file, validate_url


class _Counter:
    def __init__(self) -> None:
        self.count = 0


@contextmanager
def listener(host: str = "127.0.0.1"):
    """A raw TCP listener that counts accepted connections."""
    counter = _Counter()
    sock = socket.socket()
    sock.bind((host, 0))
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            counter.count += 1
            conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], counter
    finally:
        stop.set()
        thread.join(2)
        sock.close()


@contextmanager
def http_server(handler_cls, host: str = "127.0.0.1"):
    server = http.server.ThreadingHTTPServer((host, 0), handler_cls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_internal_addresses_are_refused_and_never_connected(tmp_path):
    with listener() as (port, counter):
        urls = [
            f"http://127.0.0.1:{port}/",
            f"http://localhost:{port}/",
            f"http://[::1]:{port}/",
            f"http://[::ffff:127.0.0.1]:{port}/",
            f"http://[::ffff:7f00:1]:{port}/",
            f"http://2130706433:{port}/",
            f"http://0x7f.1:{port}/",
            f"http://0x7f000001:{port}/",
            f"http://017700000001:{port}/",
            f"http://127.1:{port}/",
            f"http://0.0.0.0:{port}/",
            f"http://10.0.0.1:{port}/",
            f"http://172.16.0.1:{port}/",
            f"http://192.168.1.1:{port}/",
            "http://169.254.169.254/latest/meta-data/",
            f"http://100.64.0.1:{port}/",
            f"http://224.0.0.1:{port}/",
            f"http://240.0.0.1:{port}/",
            f"http://[fe80::1]:{port}/",
            f"http://[fc00::1]:{port}/",
            f"http://[2002:7f00:1::]:{port}/",
            f"http://[64:ff9b::7f00:1]:{port}/",
            f"http://[::127.0.0.1]:{port}/",
        ]
        for url in urls:
            with pytest.raises(FetchError) as info:
                fetch_to_file(url, tmp_path / "out")
            message = str(info.value)
            assert "internal address" in message or "public address" in message, (url, message)
            assert info.value.status_code == 400
        for url in (
            "ftp://example.com/x",
            "file:///etc/passwd",
            "gopher://127.0.0.1/",
            "http://u:p@example.com/",
        ):
            with pytest.raises(FetchError):
                fetch_to_file(url, tmp_path / "out")
        assert counter.count == 0


def test_redirect_to_an_internal_address_is_refused(tmp_path, settings):
    """The first hop is explicitly allowed (FETCH_ALLOWED_NETWORKS, the intranet setting); its
    redirect points at a listener on 127.0.0.2, which is not allowed: zero connections there."""
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with listener("127.0.0.2") as (target_port, counter):

        class Redirect(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", f"http://127.0.0.2:{target_port}/secret")
                self.end_headers()

            def log_message(self, *args):
                pass

        with http_server(Redirect) as port:
            with pytest.raises(FetchError) as info:
                fetch_to_file(f"http://127.0.0.1:{port}/start", tmp_path / "out")
            assert "internal address" in str(info.value)
        assert counter.count == 0


def test_redirect_targets_go_through_the_same_validation():
    for location in (
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://169.254.169.254/",
        "http://10.1.2.3/",
    ):
        with pytest.raises(FetchError):
            validate_url(location)


def test_address_classification():
    assert address_is_public("93.184.216.34")
    assert address_is_public("2606:2800:220:1:248:1893:25c8:1946")
    internal = [
        "127.0.0.1", "10.0.0.1", "169.254.169.254", "100.64.1.1", "::1", "::ffff:10.0.0.1",
        "fd00::1", "ff02::1", "0.0.0.0", "198.18.0.1", "192.0.2.1", "2001:db8::1",
    ]  # fmt: skip
    for addr in internal:
        assert not address_is_public(addr), addr


def test_allowed_network_fetch_with_caps(tmp_path, settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    hops = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/loop"):
                hops["n"] += 1
                self.send_response(302)
                self.send_header("Location", f"/loop{hops['n']}")
                self.end_headers()
                return
            if self.path == "/image":
                body, ctype = b"\x89PNG....", "image/png"
            elif self.path == "/big":
                body, ctype = b"x" * 5000, "text/plain"
            else:
                body, ctype = (
                    "<html><h1>Hi</h1><p>très bien</p></html>".encode("cp1252"),
                    "text/html; charset=windows-1252",
                )
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with http_server(Handler) as port:
        base = f"http://127.0.0.1:{port}"
        result = fetch_to_file(f"{base}/page", tmp_path / "page")
        assert result.kind == "html"
        assert result.charset == "windows-1252"
        with pytest.raises(FetchError) as info:
            fetch_to_file(f"{base}/image", tmp_path / "img")
        assert info.value.status_code == 415
        with pytest.raises(FetchError) as info:
            fetch_to_file(f"{base}/big", tmp_path / "big", max_bytes=1000)
        assert info.value.status_code == 413
        with pytest.raises(FetchError) as info:
            fetch_to_file(f"{base}/loop", tmp_path / "loop")
        assert "redirected more than 5 times" in str(info.value)
        assert hops["n"] == 6


@pytest.mark.django_db
def test_url_document_through_the_api(api, settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = "<html><h1>Intranet</h1><p>très bien</p></html>".encode("cp1252")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=windows-1252")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    ds = api.post("/v1/datasets", {"name": "Web"}, format="json").json()
    with http_server(Handler) as port:
        res = api.post(
            f"/v1/datasets/{ds['id']}/documents",
            {"url": f"http://127.0.0.1:{port}/wiki/page.html"},
            format="json",
        )
    assert res.status_code == 202, res.json()
    doc = res.json()
    assert doc["source_type"] == "url"
    assert doc["mime_type"] == "text/html"
    from datasets.ingestion import process_document
    from datasets.models import Chunk

    assert process_document(doc["id"]) == "ready"
    assert "très bien" in Chunk.objects.get(document_id=doc["id"]).text
    settings.FETCH_ALLOWED_NETWORKS = []
    res = api.post(f"/v1/datasets/{ds['id']}/documents", {"url": "http://[::1]/x"}, format="json")
    assert res.status_code == 400
    assert "internal" in res.json()["error"]["message"]


def test_a_name_that_resolves_inside_reads_like_one_that_does_not_resolve(tmp_path, monkeypatch):
    """Repro (leakage review): "db.internal resolves to a private address" vs "no-such.internal
    could not be resolved" told any tenant with a write key which internal names exist. Names
    now get one sentence either way; an address written in the URL still says it is internal."""
    with pytest.raises(FetchError) as inside:
        fetch_to_file("http://localhost/", tmp_path / "out")  # resolves to 127.0.0.1 / ::1
    real = socket.getaddrinfo

    def nxdomain(host, *args, **kwargs):
        if host == "localhost":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", nxdomain)
    with pytest.raises(FetchError) as missing:
        fetch_to_file("http://localhost/", tmp_path / "out")
    assert str(inside.value) == str(missing.value)
    assert "public address" in str(inside.value)
    assert inside.value.status_code == missing.value.status_code == 400
    with pytest.raises(FetchError) as literal:
        fetch_to_file("http://10.0.0.1/", tmp_path / "out")
    assert "internal address" in str(literal.value)
