"""A tenant's creation is its first audit event (``tenant.create``: the command, the admin, any
caller of ``tenants.services.tenant_create``); its deletion, which takes its events with it, is
a WARNING line of the ``audit`` logger naming the tenant, the actor and what went."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from conversations.tests.factories import ConversationFactory, MessageFactory
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def test_create_tenant_records_tenant_create_as_its_first_event():
    call_command("create_tenant", "initech", "--rate-limit", "60/m", stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="initech")
    [event] = AuditEvent.objects.for_tenant(tenant)
    assert (event.action, event.object_id, event.object_label) == (
        "tenant.create", str(tenant.pk), "initech",
    )  # fmt: skip
    assert (event.actor_type, event.via) == ("cli", "cli")
    assert event.changes["slug"] == {"old": None, "new": "initech"}
    assert event.changes["name"] == {"old": None, "new": "Initech"}
    assert event.changes["default_rate_limit"] == {"old": None, "new": "60/m"}
    assert event.changes["quotas"] == {"old": None, "new": {}}
    assert event.changes["is_active"] == {"old": None, "new": True}


def test_a_refused_tenant_create_leaves_no_tenant_and_no_event():
    from django.core.exceptions import ValidationError

    from tenants.services import tenant_create

    with pytest.raises(ValidationError):
        tenant_create(slug="Not A Slug")
    assert not AuditEvent.objects.exists()


def test_a_tenant_added_in_the_admin_is_recorded_once(client):
    from tenants.tests.admin_support import admin_client
    from tenants.tests.factories import UserFactory

    admin = admin_client(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    res = admin.post(
        "/admin/tenants/tenant/add/",
        {"slug": "initech", "name": "Initech", "default_model": "", "default_rate_limit": "",
         "quotas": '{"max_bots": 3}', "is_active": "on"},
    )  # fmt: skip
    assert res.status_code == 302, res.content[:3000]
    tenant = Tenant.objects.get(slug="initech")
    [event] = AuditEvent.objects.for_tenant(tenant)
    assert (event.action, event.actor_label, event.via) == ("tenant.create", "root", "admin")
    assert event.changes["quotas"] == {"old": None, "new": {"max_bots": 3}}


def test_deleting_a_tenant_leaves_a_line_in_the_application_log(
    tenant, other_tenant, caplog, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(bot__tenant=tenant)
    MessageFactory(conversation=conversation)
    caplog.set_level(logging.INFO, logger="audit")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("delete_tenant", tenant.slug, "--yes", stdout=io.StringIO())
    [record] = [r for r in caplog.records if r.name == "audit"]
    assert record.levelno == logging.WARNING
    line = record.getMessage()
    assert f"tenant acme ({tenant.pk}) deleted by cli:" in line
    assert "via cli" in line
    for counted in ("1 conversations", "1 messages", "1 bots"):
        assert counted in line
    assert (record.event, record.tenant_slug, record.tenant_id) == (
        "tenant.delete", "acme", str(tenant.pk),
    )  # fmt: skip
    assert record.actor_type == "cli"
    assert record.deleted["conversations"] == 1
    assert record.deleted["users"] == 0
    assert "audit_events" in record.deleted
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert Tenant.objects.filter(pk=other_tenant.pk).exists()


def test_a_tenant_deletion_rolled_back_logs_nothing(
    tenant, caplog, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from tenants.services import tenant_delete

    caplog.set_level(logging.INFO, logger="audit")

    def fails_after_the_delete():
        with transaction.atomic():
            tenant_delete(tenant=tenant)
            raise RuntimeError("the caller's transaction fails")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        fails_after_the_delete()
    assert callbacks == []
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert not [r for r in caplog.records if r.name == "audit"]
