"""The ASGI server does not name itself: no ``Server: uvicorn`` / ``Server: daphne`` header on
the API, pages or static files (it tells a scanner which server's bugs to try). Nor does it
log requests itself: daphne's access log wrote each client's address and full query string
(``?user=<end user>``) to stdout; the app's own JSON access line leaves both out."""

from __future__ import annotations

import re

import httpx
import pytest

from chatbot_project.testing.processes import start_server, stop


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
def test_the_server_sends_no_server_header_and_logs_no_addresses(server, tmp_path, monkeypatch):
    log = tmp_path / "server.log"
    monkeypatch.setenv("TEST_SERVER_LOG", str(log))  # the server's stdout and stderr
    proc, base = start_server(server=server, LISTEN_SOCKETS="1")
    try:
        for path in ("/v1/health", "/v1/no-such-route", "/static/chatbot/widget.js"):
            res = httpx.get(base + path, timeout=10)
            assert res.status_code in (200, 404), path
            assert "server" not in res.headers, (path, res.headers.get("server"))
        res = httpx.get(base + "/v1/conversations?user=alice%40example.com", timeout=10)
        assert res.status_code == 401
    finally:
        stop(proc)
    written = log.read_text()
    assert "alice" not in written
    # daphne's line: 127.0.0.1:47176 - - [03/Dec/2026:11:58:11] "GET /v1/conversations?user=..."
    assert not re.search(r"\d+\.\d+\.\d+\.\d+:\d+ - - \[", written)
