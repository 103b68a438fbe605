"""A browser key's visitor limit counts an IPv6 client by its /64 network.

One host or home is given a whole /64 (2^64 addresses) and can send each request from a new
one: counted by the full address, such a visitor never reached ``VISITOR_RATE_LIMIT`` or
``MAX_CONCURRENT_STREAMS_PER_VISITOR``, and could spend the site key's whole allowance.
"""

from __future__ import annotations

import pytest

from chatbot_project.testing.openai_stub import Script
from conversations.slots import visitor_of
from conversations.tests.helpers import SHOP, browser_chat
from tenants.context import AuthContext

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::Warning"),
]


def test_addresses_of_one_ipv6_64_are_one_visitor(settings, kb, make_key, openai_stub):
    settings.VISITOR_RATE_LIMIT = "2/m"
    openai_stub.script = Script(reply="ok")
    browser = make_key(kb.tenant, ("chat",), allowed_origins=[SHOP])
    assert browser_chat(browser, "2001:db8:1:2::1").status_code == 200
    assert browser_chat(browser, "2001:db8:1:2:aaaa:bbbb:cccc:dddd").status_code == 200
    refused = browser_chat(browser, "2001:db8:1:2::ffff")
    assert refused.status_code == 429
    assert "one visitor of this site" in refused.json()["error"]["message"]
    assert (
        browser_chat(browser, "2001:db8:1:3::1").status_code == 200
    )  # the next /64: another visitor


def test_visitor_addresses(tenant):
    browser = AuthContext(tenant=tenant, permissions=frozenset({"chat"}), allowed_origins=(SHOP,))
    assert visitor_of(browser, SHOP, "2001:DB8::1") == "2001:db8::/64"
    assert visitor_of(browser, SHOP, "::ffff:203.0.113.5") == "203.0.113.5"
    assert visitor_of(browser, SHOP, "203.0.113.5") == "203.0.113.5"
    assert visitor_of(browser, SHOP, "unix-socket") == "unix-socket"
    server = AuthContext(tenant=tenant, permissions=frozenset({"chat"}))
    assert visitor_of(server, SHOP, "2001:db8::1") == ""
