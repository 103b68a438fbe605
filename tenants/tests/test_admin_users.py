"""Django's User and Group admins, tenant-scoped for staff who are not superusers.

Staff see only the users who share a tenant with them (and themselves), never set privileges
(is_superuser, is_staff, groups, user_permissions), change another user only when they
administer every tenant of that user, never a superuser or another staff user; groups and new
users are for superusers.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone

from tenants.models import Membership
from tenants.tests.admin_support import APPS, admin_client, admin_url, staff_client
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PRIVILEGES = ("is_superuser", "is_staff", "groups", "user_permissions")


def _user(username: str, roles: dict, **extra):
    user = UserFactory(username=username, **extra)
    for tenant, role in roles.items():
        MembershipFactory(tenant=tenant, user=user, role=role)
    return user


@pytest.fixture
def people(tenant, other_tenant) -> dict:
    return {
        "acme-member": _user("acme-member", {tenant: "member"}),
        "acme-colleague": _user("acme-colleague", {tenant: "member"}, is_staff=True),
        "acme-root": _user("acme-root", {tenant: "member"}, is_staff=True, is_superuser=True),
        "both": _user("both", {tenant: "member", other_tenant: "owner"}),
        "globex-owner": _user("globex-owner", {other_tenant: "owner"}),
        "loner": _user("loner", {}),
    }


@pytest.fixture
def user_staff(client, tenant):
    """An owner of acme with every permission on users, groups and the tenant models."""
    return staff_client(client, {tenant: "owner"}, apps=(*APPS, "auth"))


def _user_form(user, **overrides) -> dict:
    """The admin change form of ``user`` as stored (privileges unticked), with ``overrides``."""
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(overrides)
    return data


def _escalation(**overrides) -> dict:
    group = Group.objects.create(name="everything")
    group.permissions.set(Permission.objects.all())
    return {
        "is_superuser": "on",
        "is_staff": "on",
        "groups": [str(group.pk)],
        "user_permissions": [str(p.pk) for p in Permission.objects.all()],
        **overrides,
    }


def test_staff_user_changelist_lists_only_users_sharing_a_tenant(user_staff, people):
    res = user_staff.get("/admin/auth/user/")
    assert res.status_code == 200
    listed = {u.username for u in res.context["cl"].result_list}
    assert listed == {"acme-staff", "acme-member", "acme-colleague", "acme-root", "both"}
    assert b"globex-owner" not in res.content
    assert b"loner" not in res.content


@pytest.mark.parametrize("username", ["globex-owner", "loner"])
def test_staff_gets_the_missing_object_answer_for_another_tenants_user(
    user_staff, people, username
):
    user = people[username]
    for view in ("change", "delete", "history"):
        res = user_staff.get(admin_url(user, view))
        assert res.status_code == 302, view
        assert res["Location"] == "/admin/"
    assert user_staff.get(admin_url(user, "password")).status_code == 404
    res = user_staff.post(admin_url(user), _user_form(user, first_name="taken"))
    assert res.status_code == 302
    user.refresh_from_db()
    assert user.first_name != "taken"


def test_user_choices_elsewhere_in_the_admin_show_only_those_users(user_staff, people, tenant):
    for username in ("globex-owner", "loner"):
        res = user_staff.post(
            "/admin/tenants/membership/add/",
            {"tenant": str(tenant.pk), "user": str(people[username].pk), "role": "member"},
        )
        assert res.status_code == 200, username
        assert "user" in res.context["adminform"].form.errors
    assert not Membership.objects.filter(tenant=tenant, user__username="loner").exists()


@pytest.mark.parametrize("whom", ["themself", "acme-member"])
def test_staff_never_set_privileges_on_themselves_or_others(user_staff, people, whom):
    user = user_staff.staff_user if whom == "themself" else people[whom]
    was_staff, had = user.is_staff, set(user.user_permissions.all())
    page = user_staff.get(admin_url(user))
    assert page.status_code == 200
    assert not set(PRIVILEGES) & set(page.context["adminform"].form.fields)

    res = user_staff.post(admin_url(user), _user_form(user, first_name="New", **_escalation()))
    assert res.status_code == 302, res.context and res.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.first_name == "New"  # the rest of the form is saved
    assert not user.is_superuser
    assert user.is_staff == was_staff
    assert not user.groups.exists()
    assert set(user.user_permissions.all()) == had


@pytest.mark.parametrize("username", ["acme-root", "acme-colleague", "both"])
def test_staff_cannot_change_a_superuser_another_staff_user_or_another_tenants_owner(
    user_staff, people, username
):
    # "both" is also the owner of globex: whoever resets their password holds globex.
    user = people[username]
    assert user_staff.get(admin_url(user)).status_code == 200  # view only
    assert user_staff.post(admin_url(user), _user_form(user, first_name="X")).status_code == 403
    assert user_staff.get(admin_url(user, "password")).status_code == 403
    res = user_staff.post(
        admin_url(user, "password"),
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert res.status_code == 403
    assert user_staff.post(admin_url(user, "delete"), {"post": "yes"}).status_code == 403
    user.refresh_from_db()
    assert user.first_name != "X"
    assert user.check_password("correct-horse-battery")


def test_staff_change_users_of_the_tenants_they_administer(user_staff, people, tenant):
    user = people["acme-member"]
    res = user_staff.post(
        admin_url(user, "password"),
        {
            "password1": "a-new-long-passphrase",
            "password2": "a-new-long-passphrase",
        },
    )
    assert res.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase")
    # While a member of the same tenant only views users, and edits only themself.
    member = staff_client(Client(), {tenant: "member"}, username="m", apps=(*APPS, "auth"))
    assert member.post(admin_url(user), _user_form(user, first_name="Y")).status_code == 403
    own = member.staff_user
    assert member.post(admin_url(own), _user_form(own, first_name="Me")).status_code == 302
    own.refresh_from_db()
    assert own.first_name == "Me"


def test_only_superusers_add_users(user_staff):
    assert user_staff.get("/admin/auth/user/add/").status_code == 403
    res = user_staff.post(
        "/admin/auth/user/add/",
        {
            "username": "newcomer",
            "password1": "a-new-long-passphrase",
            "password2": "a-new-long-passphrase",
            "usable_password": "true",
        },
    )
    assert res.status_code == 403
    assert not get_user_model().objects.filter(username="newcomer").exists()
    root = admin_client(Client(), UserFactory(username="root", is_staff=True, is_superuser=True))
    assert root.get("/admin/auth/user/add/").status_code == 200


def test_groups_are_view_only_for_staff(user_staff):
    group = Group.objects.create(name="editors")
    group.user_set.add(user_staff.staff_user)
    assert user_staff.get("/admin/auth/group/").status_code == 200
    assert user_staff.get(admin_url(group)).status_code == 200
    res = user_staff.post(
        admin_url(group),
        {"name": "editors", "permissions": [str(p.pk) for p in Permission.objects.all()]},
    )
    assert res.status_code == 403
    assert not group.permissions.exists()
    assert user_staff.get("/admin/auth/group/add/").status_code == 403
    assert user_staff.post(admin_url(group, "delete"), {"post": "yes"}).status_code == 403
    assert Group.objects.filter(pk=group.pk).exists()


def test_superusers_keep_the_full_user_and_group_admins(superuser, people):
    res = superuser.get("/admin/auth/user/")
    assert {"globex-owner", "loner", "acme-root"} <= {
        u.username for u in res.context["cl"].result_list
    }
    loner = people["loner"]
    form = superuser.get(admin_url(loner)).context["adminform"].form
    assert set(PRIVILEGES) <= set(form.fields)
    res = superuser.post(admin_url(loner), _user_form(loner, **_escalation()))
    assert res.status_code == 302
    loner.refresh_from_db()
    assert loner.is_superuser
    assert loner.is_staff
    res = superuser.post("/admin/auth/group/add/", {"name": "ops", "permissions": []})
    assert res.status_code == 302
    assert Group.objects.filter(name="ops").exists()


def test_ones_own_password_is_changed_with_the_current_one(user_staff):
    """The user admin's password form asks for no current password: a hijacked session set a
    new one and kept the account. One's own goes to the admin's own page, which asks."""
    own = user_staff.staff_user
    res = user_staff.post(
        admin_url(own, "password"),
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase"},
    )
    assert res.status_code == 302
    assert res["Location"] == "/admin/password_change/"
    own.refresh_from_db()
    assert not own.check_password("a-new-long-passphrase")  # was changed
    page = user_staff.get("/admin/password_change/")
    assert page.status_code == 200
    assert "old_password" in page.context["form"].fields
