"""Membership roles in the admin: writes need the API's permission in the object's tenant.

A ``member`` (chat + read) gets view-only pages; bots, datasets and the like need ``write``;
API keys, memberships and tenant settings need ``admin``; nobody grants a role above their own,
and only owners touch owners' memberships.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from bots.models import Bot
from tenants.context import ROLE_PERMISSIONS
from tenants.models import Membership
from tenants.tests.admin_support import KINDS, admin_url, bot_form, staff_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client, tenant):
    """A staff ``member`` of acme with every Django permission on the tenant models."""
    return staff_client(client, {tenant: "member"})


@pytest.fixture
def mixed(client, tenant, other_tenant):
    """A staff ``admin`` of acme who is only a ``member`` of globex."""
    return staff_client(client, {tenant: "admin", other_tenant: "member"})


@pytest.mark.parametrize("kind", [*(k for k in KINDS if k != "apikey"), "membership"])
def test_a_member_gets_view_only_pages(member, acme, kind):
    obj = acme[kind]
    res = member.get(admin_url(obj, "changelist"))
    assert res.status_code == 200
    assert not res.context["has_add_permission"]
    action_form = res.context["action_form"]
    actions = [] if action_form is None else action_form.fields["action"].choices
    assert "delete_selected" not in [name for name, _ in actions]
    page = member.get(admin_url(obj))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert member.post(admin_url(obj), {}).status_code == 403
    assert member.post(admin_url(obj, "delete"), {"post": "yes"}).status_code == 403
    assert member.get(admin_url(obj, "changelist") + "add/").status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_a_member_does_not_see_api_keys(member, acme):
    """As GET /v1/api-keys (admin): a member with Django's view permission listed every key of
    the tenant, its permissions, bots, origins and hash included."""
    assert member.get("/admin/apikeys/apikey/").status_code == 403
    assert member.get(admin_url(acme["apikey"])).status_code == 403


def test_api_keys_are_seen_only_where_the_role_is_admin(mixed, acme, globex):
    key = acme["apikey"]
    listed = mixed.get("/admin/apikeys/apikey/")  # admin of acme, member of globex
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [key]
    assert mixed.get(admin_url(globex["apikey"])).status_code in (302, 403, 404)


def test_a_member_cannot_bulk_delete_or_change_tenant_settings(member, acme, tenant):
    bot = acme["bot"]
    res = member.post(
        "/admin/bots/bot/",
        {"action": "delete_selected", "_selected_action": [bot.pk], "post": "yes"},
    )
    assert res.status_code in (200, 302)
    assert Bot.objects.filter(pk=bot.pk).exists()
    res = member.post(admin_url(tenant), {"name": "Renamed", "slug": tenant.slug, "quotas": "{}"})
    assert res.status_code == 403
    tenant.refresh_from_db()
    assert tenant.name == "Acme"


def test_write_roles_count_per_tenant(mixed, acme, globex, tenant):
    # Both tenants are visible; only acme, where the user is admin, is writable.
    res = mixed.get("/admin/bots/bot/")
    assert {b.slug for b in res.context["cl"].result_list} == {"acme-bot", "globex-bot"}
    theirs = globex["bot"]
    assert mixed.post(admin_url(theirs), bot_form(theirs, name="taken over")).status_code == 403
    theirs.refresh_from_db()
    assert theirs.name != "taken over"
    ours = acme["bot"]
    assert mixed.post(admin_url(ours), bot_form(ours, name="renamed")).status_code == 302
    ours.refresh_from_db()
    assert ours.name == "renamed"
    # Adding: the tenant choices are the tenants where the role allows it.
    form = mixed.get("/admin/bots/bot/add/").context["adminform"].form
    assert list(form.fields["tenant"].queryset) == [tenant]
    data = bot_form(theirs, slug="intruder", datasets=[], default_scope="")
    res = mixed.post("/admin/bots/bot/add/", data)
    assert res.status_code == 200
    assert "tenant" in res.context["adminform"].form.errors
    assert not Bot.objects.filter(slug="intruder").exists()


def test_save_and_delete_refuse_a_tenant_without_the_role(mixed, acme, globex):
    request = RequestFactory().post("/admin/bots/bot/")
    request.user = mixed.staff_user
    bot_admin = admin.site.get_model_admin(Bot)
    theirs = globex["bot"]
    theirs.name = "taken over"
    with pytest.raises(PermissionDenied):
        bot_admin.save_model(request, theirs, None, True)
    with pytest.raises(PermissionDenied):
        bot_admin.delete_model(request, theirs)
    bot_admin.delete_queryset(request, Bot.objects.all())
    assert list(Bot.objects.values_list("slug", flat=True)) == ["globex-bot"]


def test_api_keys_memberships_and_tenant_settings_need_the_admin_permission(
    client, monkeypatch, acme, tenant
):
    # With today's roles write and admin go together (owner, admin); a role with write alone
    # shows the difference.
    monkeypatch.setitem(ROLE_PERMISSIONS, "editor", frozenset({"chat", "read", "write"}))
    editor = staff_client(client, {tenant: "editor"})
    bot = acme["bot"]
    assert editor.post(admin_url(bot), bot_form(bot, name="edited")).status_code == 302
    key, membership = acme["apikey"], acme["membership"]
    assert editor.post(admin_url(key), {"name": "edited"}).status_code == 403
    assert editor.post(admin_url(membership), {"role": "admin"}).status_code == 403
    assert editor.post(admin_url(tenant), {"name": "edited"}).status_code == 403
    assert editor.get("/admin/apikeys/apikey/add/").status_code == 403
    assert editor.get("/admin/tenants/membership/add/").status_code == 403
    membership.refresh_from_db()
    assert membership.role == "member"


def _membership_form(membership, **overrides) -> dict:
    return {"user": str(membership.user_id), "role": membership.role, **overrides}


def test_admins_grant_at_most_their_own_role_and_leave_owners_alone(mixed, acme, globex, tenant):
    # A user of globex (visible to the staff user, a member there) joins acme.
    newcomer = globex["membership"].user
    add = {"tenant": str(tenant.pk), "user": str(newcomer.pk)}
    res = mixed.post("/admin/tenants/membership/add/", {**add, "role": "owner"})
    assert res.status_code == 200
    assert "role" in res.context["adminform"].form.errors
    assert mixed.post("/admin/tenants/membership/add/", {**add, "role": "admin"}).status_code == 302
    assert Membership.objects.get(tenant=tenant, user=newcomer).role == "admin"

    own = Membership.objects.get(tenant=tenant, user=mixed.staff_user)
    res = mixed.post(admin_url(own), _membership_form(own, role="owner"))
    assert res.status_code == 200
    assert "role" in res.context["adminform"].form.errors
    colleague = acme["membership"]
    assert (
        mixed.post(admin_url(colleague), _membership_form(colleague, role="admin")).status_code
        == 302
    )

    boss = staff_client(Client(), {tenant: "owner"}, username="boss")
    owner = Membership.objects.get(tenant=tenant, user=boss.staff_user)
    page = mixed.get(admin_url(owner))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert mixed.post(admin_url(owner), _membership_form(owner, role="member")).status_code == 403
    assert mixed.post(admin_url(owner, "delete"), {"post": "yes"}).status_code == 403
    owner.refresh_from_db()
    assert owner.role == "owner"
    for membership, role in ((own, "admin"), (colleague, "admin")):
        membership.refresh_from_db()
        assert membership.role == role

    # An owner grants owner and edits owners.
    res = boss.post(admin_url(own), _membership_form(own, role="owner"))
    assert res.status_code == 302
    own.refresh_from_db()
    assert own.role == "owner"


def test_the_role_map_is_read_once_per_request(
    mixed, tenant, other_tenant, django_assert_num_queries
):
    from tenants.admin_roles import admin_roles, tenants_allowing
    from tenants.admin_scoping import admin_tenant_ids

    request = RequestFactory().get("/admin/")
    request.user = mixed.staff_user
    with django_assert_num_queries(1):
        assert admin_roles(request) == {tenant.pk: "admin", other_tenant.pk: "member"}
        assert admin_tenant_ids(request) == {tenant.pk, other_tenant.pk}
        assert tenants_allowing(request, "write") == {tenant.pk}
        assert tenants_allowing(request, "read") == {tenant.pk, other_tenant.pk}
