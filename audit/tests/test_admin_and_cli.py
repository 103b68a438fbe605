"""The Django admin's and the management commands' changes are audit events too: one per
change (an admin save that goes through a recording service is not recorded twice)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apikeys.models import APIKey
from audit.context import Actor, acting_as
from audit.models import AuditEvent
from audit.services import audit_record
from bots.models import Bot
from bots.tests.factories import BotFactory, ScopeFactory
from tenants.tests.admin_support import APPS, admin_url, bot_form, staff_client

pytestmark = pytest.mark.django_db


def _events(tenant, action):
    return list(AuditEvent.objects.for_tenant(tenant).filter(action=action))


def _staff(client, roles):
    return staff_client(client, roles, apps=(*APPS, "audit"))


def test_an_admin_edit_is_one_event_with_its_changes(client, tenant):
    bot = BotFactory(tenant=tenant, slug="helper", system_prompt="Old.")
    admin = _staff(client, {tenant: "owner"})
    res = admin.post(admin_url(bot), bot_form(bot, system_prompt="New.", max_tokens=256))
    assert res.status_code == 302, res.content[:2000]
    [event] = _events(tenant, "bot.update")
    assert (event.actor_type, event.actor_label, event.via) == ("user", "acme-staff", "admin")
    assert event.changes["system_prompt"] == {"old": "Old.", "new": "New."}
    assert event.changes["max_tokens"]["new"] == 256
    assert event.request_id


def test_an_admin_add_through_a_recording_service_is_one_event(client, tenant):
    admin = _staff(client, {tenant: "owner"})
    res = admin.post(
        "/admin/apikeys/apikey/add/",
        {"tenant": str(tenant.pk), "name": "from admin", "permissions": ["read"],
         "rate_limit": "", "allowed_origins": "", "expires_at_0": "", "expires_at_1": ""},
    )  # fmt: skip
    assert res.status_code == 302, res.content[:2000]
    key = APIKey.objects.get(name="from admin")
    [event] = _events(tenant, "api_key.create")
    assert (event.object_id, event.actor_label) == (str(key.pk), "acme-staff")
    assert key.key_hash not in str(event.changes)


def test_admin_deletes_are_one_event_each(client, tenant):
    bot = BotFactory(tenant=tenant, slug="helper")
    scope = ScopeFactory(tenant=tenant, slug="public")
    admin = _staff(client, {tenant: "owner"})
    assert admin.post(admin_url(bot, "delete"), {"post": "yes"}).status_code == 302  # service
    assert admin.post(admin_url(scope, "delete"), {"post": "yes"}).status_code == 302  # ORM
    assert not Bot.objects.filter(pk=bot.pk).exists()
    assert [e.object_id for e in _events(tenant, "bot.delete")] == [str(bot.pk)]
    assert [e.object_id for e in _events(tenant, "scope.delete")] == [str(scope.pk)]


def test_the_admin_lists_the_staffs_tenants_events_read_only(client, tenant, other_tenant):
    with acting_as(Actor(type="system", label="system")):
        mine = audit_record(tenant=tenant, action="bot.create", label="acme-bot-event")
        audit_record(tenant=other_tenant, action="bot.create", label="globex-bot-event")
    admin = _staff(client, {tenant: "owner"})
    page = admin.get("/admin/audit/auditevent/")
    assert page.status_code == 200
    assert b"acme-bot-event" in page.content
    assert b"globex-bot-event" not in page.content
    assert admin.get(admin_url(mine, "delete")).status_code == 403
    assert admin.post(admin_url(mine), {"action": "x"}).status_code == 403
    assert admin.get("/admin/audit/auditevent/add/").status_code == 403


def test_a_member_does_not_see_the_log_in_the_admin(client, tenant):
    admin = _staff(client, {tenant: "member"})
    assert admin.get("/admin/audit/auditevent/").status_code == 403


def test_commands_record_as_cli(tenant):
    out = io.StringIO()
    call_command("create_bot", "--tenant", tenant.slug, "--name", "Helper", stdout=out)
    call_command("create_api_key", "--tenant", tenant.slug, "--name", "cli key", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    call_command("revoke_api_key", raw, stdout=io.StringIO())
    for action in ("bot.create", "api_key.create", "api_key.revoke"):
        [event] = _events(tenant, action)
        assert event.actor_type == "cli"
        assert event.actor_label.startswith("cli:")
        assert event.via == "cli"
    assert raw not in str(list(AuditEvent.objects.values_list()))


def test_purge_audit(tenant, other_tenant):
    old = timezone.now() - dt.timedelta(days=400)
    events = [
        audit_record(tenant=t, action="bot.create", object_id=name)
        for t, name in ((tenant, "old"), (tenant, "new"), (other_tenant, "old"))
    ]
    AuditEvent.objects.filter(object_id="old").update(created_at=old)
    out = io.StringIO()
    call_command("purge_audit", "--older-than", "365d", "--dry-run", stdout=out)
    assert "2 audit event(s)" in out.getvalue()
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in events]).count() == 3
    call_command("purge_audit", "--older-than", "365d", "--tenant", tenant.slug, stdout=out)
    assert set(AuditEvent.objects.values_list("tenant__slug", "object_id")) == {
        (tenant.slug, "new"),
        (other_tenant.slug, "old"),
    }
    call_command("purge_audit", "--older-than", "365d", stdout=out)
    assert list(AuditEvent.objects.values_list("object_id", flat=True)) == ["new"]
    for bad in (["--older-than", "3m"], ["--older-than", "365d", "--tenant", ""],
                ["--older-than", "365d", "--tenant", "nope"]):  # fmt: skip
        with pytest.raises(CommandError):
            call_command("purge_audit", *bad, stdout=out)


def test_events_are_append_only(tenant):
    event = audit_record(tenant=tenant, action="bot.create")
    event.action = "bot.delete"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_members_added_and_their_roles_changed_are_recorded(client, tenant):
    from tenants.models import Membership
    from tenants.services import user_create

    with acting_as(Actor(type="cli", id="ops", label="cli:ops", via="cli")):
        user = user_create(tenant=tenant, username="newbie", role="member")
    [added] = _events(tenant, "member.create")
    assert (added.object_label, added.changes) == (
        "newbie",
        {"role": {"old": None, "new": "member"}},
    )
    membership = Membership.objects.get(tenant=tenant, user=user)
    admin = _staff(client, {tenant: "owner"})
    res = admin.post(admin_url(membership), {"user": str(user.pk), "role": "admin"})
    assert res.status_code == 302, res.content[:2000]
    [changed] = _events(tenant, "member.update")
    assert changed.changes == {"role": {"old": "member", "new": "admin"}}
    assert changed.actor_label == "acme-staff"


def test_a_superuser_deletes_an_event_only_with_its_tenant(superuser_admin, tenant):
    event = audit_record(tenant=tenant, action="bot.create")
    assert superuser_admin.get(admin_url(event, "delete")).status_code == 403
    page = superuser_admin.get("/admin/audit/auditevent/")
    assert b"delete_selected" not in page.content
    res = superuser_admin.post(admin_url(tenant, "delete"), {"post": "yes"})
    assert res.status_code == 302, res.content[:500]
    assert not AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.fixture
def superuser_admin(client):
    from tenants.tests.admin_support import admin_client
    from tenants.tests.factories import UserFactory

    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    return admin_client(client, user)
