"""The ASGI server does not name itself: no ``Server: uvicorn`` / ``Server: daphne`` header on
the API, pages or static files (it tells a scanner which server's bugs to try)."""

from __future__ import annotations

import httpx
import pytest

from chatbot_project.testing.processes import start_server, stop


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
def test_the_server_sends_no_server_header(server):
    proc, base = start_server(server=server, LISTEN_SOCKETS="1")
    try:
        for path in ("/v1/health", "/v1/no-such-route", "/static/chatbot/widget.js"):
            res = httpx.get(base + path, timeout=10)
            assert res.status_code in (200, 404), path
            assert "server" not in res.headers, (path, res.headers.get("server"))
    finally:
        stop(proc)
