"""A tenant that has an owner keeps one: in the admin its last owner's membership is neither
demoted (change form) nor deleted (delete page, "delete selected"), by anyone, superusers
included. Before, an owner could demote or remove themselves (or a superuser the last owner),
leaving a tenant nobody but an operator could give an owner again: only an owner manages
owners' memberships and nobody grants a role above their own. With two owners, either may go.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from tenants.models import Membership
from tenants.tests.admin_support import admin_url, staff_client
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tenants/membership/"


def _form(membership: Membership, **overrides) -> dict:
    return {"user": str(membership.user_id), "role": membership.role, **overrides}


def _bulk_delete(client: Client, memberships: list[Membership]):
    return client.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(m.pk) for m in memberships],
            "post": "yes",
        },
    )


@pytest.fixture
def boss(tenant) -> Client:
    """A staff owner of acme, its only owner."""
    return staff_client(Client(), {tenant: "owner"}, username="boss")


def _own(client: Client, tenant) -> Membership:
    return Membership.objects.get(tenant=tenant, user=client.staff_user)


def test_the_last_owner_cannot_demote_themselves(boss, tenant):
    own = _own(boss, tenant)
    for role in ("admin", "member"):
        res = boss.post(admin_url(own), _form(own, role=role))
        assert res.status_code == 200, res.content[:300]
        errors = res.context["adminform"].form.errors["role"]
        assert "acme would be left without an owner" in errors[0]
        own.refresh_from_db()
        assert own.role == "owner"


def test_the_last_owner_cannot_be_deleted_one_by_one_or_in_bulk(boss, tenant, superuser):
    own = _own(boss, tenant)
    for client in (boss, superuser):
        page = client.get(admin_url(own, "delete"))
        assert page.status_code == 200
        assert "acme would be left without an owner" in page.content.decode()
        client.post(admin_url(own, "delete"), {"post": "yes"})
        assert Membership.objects.filter(pk=own.pk).exists()
        res = _bulk_delete(client, [own])
        assert "acme would be left without an owner" in res.content.decode()
        assert Membership.objects.filter(pk=own.pk).exists()
    # A superuser cannot demote them either.
    res = superuser.post(admin_url(own), _form(own, role="member"))
    assert res.status_code == 200
    own.refresh_from_db()
    assert own.role == "owner"


def test_with_two_owners_either_may_go_but_not_both(boss, tenant, superuser):
    own = _own(boss, tenant)
    other = MembershipFactory(tenant=tenant, user=UserFactory(username="second"), role="owner")
    member = MembershipFactory(tenant=tenant, user=UserFactory(username="third"), role="member")
    res = _bulk_delete(superuser, [own, other, member])
    assert "acme would be left without an owner" in res.content.decode()
    assert Membership.objects.filter(tenant=tenant).count() == 3

    assert boss.post(admin_url(other), _form(other, role="admin")).status_code == 302
    other.refresh_from_db()
    assert other.role == "admin"
    assert boss.post(admin_url(own), _form(own, role="admin")).status_code == 200
    assert boss.post(admin_url(other), _form(other, role="owner")).status_code == 302
    assert boss.post(admin_url(own, "delete"), {"post": "yes"}).status_code == 302
    assert not Membership.objects.filter(pk=own.pk).exists()
    assert list(Membership.objects.filter(tenant=tenant, role="owner")) == [other]


def test_a_tenant_without_an_owner_is_managed_as_before(tenant, superuser):
    first = MembershipFactory(tenant=tenant, user=UserFactory(username="a1"), role="admin")
    second = MembershipFactory(tenant=tenant, user=UserFactory(username="a2"), role="member")
    assert superuser.post(admin_url(first), _form(first, role="member")).status_code == 302
    assert _bulk_delete(superuser, [first, second]).status_code == 302
    assert not Membership.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_leaving_at_once_leave_one(tenant):
    """The owners' rows are locked by the check: two owners demoting themselves at the same
    time cannot both pass it (each saw the other still an owner)."""
    from tenants.services import last_owner_refusal

    owners = [
        MembershipFactory(tenant=tenant, user=UserFactory(username=f"o{i}"), role="owner")
        for i in range(2)
    ]
    first_checked, results = threading.Event(), {}

    def leave(membership: Membership, wait: bool) -> None:
        try:
            with transaction.atomic():
                if wait:
                    first_checked.wait(5)
                refusal = last_owner_refusal(memberships=[membership], lock=True)
                if not wait:
                    first_checked.set()
                    threading.Event().wait(0.3)  # the other one is waiting for the lock now
                if refusal is None:
                    Membership.objects.filter(pk=membership.pk).update(role="member")
                results[membership.pk] = refusal
        finally:
            connection.close()

    threads = [
        threading.Thread(target=leave, args=(owners[0], False)),
        threading.Thread(target=leave, args=(owners[1], True)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results[owners[0].pk] is None
    assert "acme would be left without an owner" in results[owners[1].pk]
    assert Membership.objects.filter(tenant=tenant, role="owner").count() == 1
