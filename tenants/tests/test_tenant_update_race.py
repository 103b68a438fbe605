"""PATCH /v1/tenant writes only the fields it was sent. It read the row, then saved every
column: a suspension (``tenant_deactivate``) committed in between was undone (``is_active``
written back as true, the suspended tenant's keys and users working again), and of two PATCHes
of different settings at once (name, quotas) the second put the first one's field back."""

from __future__ import annotations

import pytest

from bots.tests.test_dataset_link_race import _run
from tenants.models import Tenant
from tenants.services import tenant_deactivate, tenant_update

pytestmark = pytest.mark.django_db(transaction=True)


def _patch(tenant, data):
    return lambda: tenant_update(tenant=tenant, data=data)


def test_a_settings_patch_does_not_undo_a_suspension_made_meanwhile(tenant):
    outcome = _run(lambda: tenant_deactivate(tenant=tenant), _patch(tenant, {"name": "Acme Corp"}))
    assert outcome == {"first": "ok", "second": "ok"}
    row = Tenant.objects.get(pk=tenant.pk)
    assert row.is_active is False  # was True: the PATCH wrote the row it had read back
    assert row.name == "Acme Corp"


def test_two_patches_of_different_settings_both_stay(tenant):
    outcome = _run(
        _patch(tenant, {"name": "Acme Corp"}), _patch(tenant, {"quotas": {"max_bots": 3}})
    )
    assert outcome == {"first": "ok", "second": "ok"}
    row = Tenant.objects.get(pk=tenant.pk)
    assert (row.name, row.quotas) == ("Acme Corp", {"max_bots": 3})  # name was "Acme" again


def test_a_patch_of_a_tenant_deleted_meanwhile_is_a_404_and_does_not_bring_it_back(tenant):
    from chatbot_project.errors import NotFound
    from tenants.services import tenant_delete

    outcome = _run(lambda: tenant_delete(tenant=tenant), _patch(tenant, {"name": "Back"}))
    assert outcome["first"] == "ok"
    assert isinstance(outcome["second"], NotFound), repr(outcome["second"])
    assert not Tenant.objects.filter(slug="acme").exists()
