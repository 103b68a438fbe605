"""Shared fixtures. Tests run on the real embedded PostgreSQL+pgvector and Redis (see Makefile)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis db (tests use their own db number, see settings)."""
    from chatbot_project.redis_client import get_redis

    get_redis().flushdb()
    yield


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
