"""URL fetches keep their overall time limit against a server that trickles bytes (each byte
restarted the socket timeout, and a buffered read waited for the whole block: a request held
for as long as the server liked), and a body cut short of its Content-Length is refused rather
than ingested as the whole document (http.client returns the short body without a word)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import pytest

from datasets.fetch import FetchError, fetch_to_file


@contextmanager
def raw_server(respond):
    """A TCP server on 127.0.0.1 that runs ``respond(conn)`` for each connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        try:
            conn.recv(65536)  # the request
            respond(conn, stop)
        except OSError:
            pass
        finally:
            conn.close()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def _trickle(conn: socket.socket, stop: threading.Event, data: bytes) -> None:
    for byte in data:
        if stop.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.1)


def trickled_body(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 200\r\n\r\n")
    _trickle(conn, stop, b"x" * 200)  # 20 s, a byte every 0.1 s


def trickled_headers(conn, stop):
    _trickle(conn, stop, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Pad: " + b"p" * 200)


def short_body(conn, stop):
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n"
        + b"only the first hundred bytes of the document arrive. " * 2
    )


@pytest.mark.parametrize("respond", [trickled_body, trickled_headers])
def test_a_trickling_server_is_cut_off_at_the_time_limit(settings, tmp_path, respond):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with raw_server(respond) as port:
        started = time.monotonic()
        with pytest.raises(FetchError) as info:
            fetch_to_file(f"http://127.0.0.1:{port}/slow", tmp_path / "out", timeout=1)
        took = time.monotonic() - started
    assert took < 3, took
    assert str(info.value) == "Fetching the URL took longer than 1 s; stopped."
    assert info.value.status_code == 502


def test_a_body_shorter_than_its_content_length_is_refused(settings, tmp_path):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with raw_server(short_body) as port, pytest.raises(FetchError) as info:
        fetch_to_file(f"http://127.0.0.1:{port}/cut", tmp_path / "out", timeout=5)
    assert str(info.value) == "The download was interrupted."
    assert info.value.error_type == "upstream_error"


@pytest.mark.django_db
def test_the_api_answers_a_trickling_url_within_the_limit(api, settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FETCH_TIMEOUT_SECONDS = 1
    ds = api.post("/v1/datasets", {"name": "Web"}, format="json").json()["id"]
    with raw_server(trickled_body) as port:
        started = time.monotonic()
        res = api.post(
            f"/v1/datasets/{ds}/documents", {"url": f"http://127.0.0.1:{port}/x"}, format="json"
        )
        assert time.monotonic() - started < 3
    assert res.status_code == 502, res.json()
    assert res.json()["error"] == {
        "type": "upstream_error",
        "message": "Fetching the URL took longer than 1 s; stopped.",
    }
