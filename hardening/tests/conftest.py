"""Tests marked ``hardening`` are slow (a live server fuzzed for minutes): ``make hardening`` runs
them (``-m hardening``); a plain ``pytest``/``make test`` skips them and runs the fast ones."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "hardening" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="slow hardening test: run by `make hardening`")
    for item in items:
        if item.get_closest_marker("hardening"):
            item.add_marker(skip)


# Server-side limits the fast tests exercise (the product reads them from the environment).
LIVE_LIMITS = {
    "MAX_JSON_BODY_BYTES": str(256 * 1024),
    "MAX_CONCURRENT_STREAMS_PER_KEY": "3",
    "SSE_PING_SECONDS": "1",
    "MAX_REQUEST_BODY_BYTES": str(1024 * 1024),
}


@pytest.fixture(scope="session")
def stub_server_url(django_db_setup, _openai_stub_server) -> str:
    """One real ASGI server for the fast hardening tests, its chat model the local stub."""
    from hardening.tests.support import live_server, stub_env

    with live_server(**stub_env(_openai_stub_server.base_url, **LIVE_LIMITS)) as base:
        yield base


@pytest.fixture
def live(stub_server_url, openai_stub, transactional_db) -> str:
    """Base URL of the live server; the stub is reset and the database is shared (committed).

    Afterwards it waits for the server to finish the answers it was streaming (the stub sees
    each upstream request end), so their last writes never race the database flush."""
    import time

    yield stub_server_url
    openai_stub.wait_for(
        lambda: all(r.finished_at is not None for r in openai_stub.chat_requests()), 15
    )
    time.sleep(0.3)
