"""README's Production section says how the server learns visitors' addresses behind a proxy.

Browser keys' per-visitor limits (VISITOR_RATE_LIMIT, MAX_CONCURRENT_STREAMS_PER_VISITOR) and
the login limit count by client address. uvicorn takes it from `X-Forwarded-For` only for peers
in FORWARDED_ALLOW_IPS (default 127.0.0.1); compose's TLS proxy is another container, so every
visitor had the proxy's address and the whole site one visitor's share (3 answers at once).
Only docs/widget.md mentioned the variable; the Production section, which sets up exactly
that proxy, did not."""

from __future__ import annotations

import re

import uvicorn

from chatbot_project.testing.processes import BASE_DIR


def _production() -> str:
    text = (BASE_DIR / "README.md").read_text()
    found = re.search(r"### Production\n(.*?)\n### ", text, re.DOTALL)
    assert found, "README has no Production section"
    return " ".join(found.group(1).split())


def test_production_names_the_variable_that_trusts_the_proxy(monkeypatch):
    section = _production()
    assert "`FORWARDED_ALLOW_IPS`" in section
    assert "`X-Forwarded-For`" in section
    # What it says is how the server is started: chatbot_project.serve leaves the setting to
    # uvicorn, which reads the variable.
    assert "forwarded_allow_ips" not in (BASE_DIR / "chatbot_project" / "serve.py").read_text()
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "172.16.0.0/12")
    config = uvicorn.Config("chatbot_project.asgi:application")
    assert (config.proxy_headers, config.forwarded_allow_ips) == (True, "172.16.0.0/12")
