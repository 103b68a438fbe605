"""Shared fixtures. Tests run on the real embedded PostgreSQL+pgvector and Redis (see Makefile)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis db (tests use their own db number, see settings)."""
    from chatbot_project.redis_client import get_redis

    get_redis().flushdb()


@pytest.fixture
def tenant(db):
    from tenants.tests.factories import TenantFactory

    return TenantFactory(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db):
    from tenants.tests.factories import TenantFactory

    return TenantFactory(slug="globex", name="Globex")


@pytest.fixture
def make_key(db):
    """make_key(tenant, permissions=(...), **kw) -> raw key string."""
    from apikeys.services import api_key_create

    def _make(tenant, permissions=("chat", "read", "write", "admin"), **kw):
        kw.setdefault("name", "test key")
        _, raw = api_key_create(tenant=tenant, permissions=permissions, **kw)
        return raw

    return _make


@pytest.fixture
def client_for(make_key):
    """client_for(tenant, permissions=...) -> APIClient authenticated with a fresh key."""

    def _client(tenant, permissions=("chat", "read", "write", "admin"), **kw):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(tenant, permissions, **kw)}")
        return client

    return _client


@pytest.fixture
def api(client_for, tenant):
    """An admin-key client for the `tenant` fixture."""
    return client_for(tenant)


@pytest.fixture
def other_api(client_for, other_tenant):
    return client_for(other_tenant)


# --- openai_stub (chat issue): a real local OpenAI-compatible server; providers point at it.
@pytest.fixture(scope="session")
def _openai_stub_server():
    from chatbot_project.testing.openai_stub import OpenAIStub

    stub = OpenAIStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def openai_stub(_openai_stub_server, settings):
    """The stub server, reset, with settings pointing the `openai` chat provider at it."""
    _openai_stub_server.reset()
    settings.OPENAI_BASE_URL = _openai_stub_server.base_url
    settings.OPENAI_API_KEY = "sk-stub"
    settings.CHAT_PROVIDER = "openai"
    settings.CHAT_MODEL = "stub-model"
    yield _openai_stub_server
    if _openai_stub_server.script.hold_last is not None:
        _openai_stub_server.script.hold_last.set()
