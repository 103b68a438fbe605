"""The sign-in limit (20 a minute per client) counts an IPv6 client by its /64 network: one
host is given a whole /64, and counted per address a guesser changing address each time was
never limited."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenants.apis import LOGIN_LIMIT
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
LIMIT = int(LOGIN_LIMIT.split("/")[0])


@pytest.fixture
def olga(tenant):
    user = UserFactory(username="olga", is_staff=True)
    MembershipFactory(tenant=tenant, user=user, role="owner")
    return user


def _rest(address: str, password: str = "guess", username: str = "olga"):
    return APIClient(REMOTE_ADDR=address).post(
        "/v1/auth/token", {"username": username, "password": password}, format="json"
    )


def test_guesses_from_one_ipv6_network_share_one_count(client, olga):
    # (Over several usernames: each has its own limit of failures, test_sign_in_username_limit.)
    answers = [
        _rest(f"2001:db8:1:2::{i + 1:x}", username=f"u{i}").status_code for i in range(LIMIT)
    ]
    assert set(answers) == {401}
    refused = _rest("2001:db8:1:2:ffff:ffff:ffff:fffe", "correct-horse-battery")
    assert refused.status_code == 429, refused.content  # was 200: a new address, a new count
    admin = client.post(
        "/admin/login/",
        {"username": "olga", "password": "correct-horse-battery"},
        REMOTE_ADDR="2001:db8:1:2:abcd::1",
    )
    assert admin.status_code == 429  # the admin's form shares the count
    # Another /64 (another host) is counted apart, and so are IPv4 clients.
    assert _rest("2001:db8:1:3::1", "correct-horse-battery").status_code == 200
    assert _rest("192.0.2.7", "correct-horse-battery").status_code == 200


def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(olga):
    for i in range(LIMIT):
        _rest("192.0.2.9", username=f"u{i}")
    assert _rest("::ffff:192.0.2.9", "correct-horse-battery").status_code == 429
