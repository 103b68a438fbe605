"""Fixtures of the admin tests (helpers in ``admin_support``)."""

from __future__ import annotations

import pytest

from tenants.tests.admin_support import admin_client, staff_client, tenant_data
from tenants.tests.factories import UserFactory


@pytest.fixture
def acme(tenant):
    return tenant_data(tenant)


@pytest.fixture
def globex(other_tenant):
    return tenant_data(other_tenant)


@pytest.fixture
def staff(client, tenant):
    """A staff owner of acme only, with every permission on the tenant models."""
    return staff_client(client, {tenant: "owner"})


@pytest.fixture
def superuser(client):
    return admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
