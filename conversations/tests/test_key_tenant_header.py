"""An API key acts in its own tenant only: a request whose ``X-Tenant`` names another tenant is
refused (401 ``authentication_failed``), as a staff token naming a tenant the user has no
membership in is, on every entry point (Django views, the fast lanes of /v1/chat and
/v1/retrieve, the OpenAI routes), the first request and the cached ones after it. It used to be
served, silently, for the key's own tenant: a client that meant another tenant read or wrote
the wrong one. Naming the key's own tenant, or sending the header empty, is fine."""

from __future__ import annotations

import pytest

from conversations.tests.helpers import asgi_call
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROUTES = [
    ("get", "/v1/tenant", None),
    ("get", "/v1/bots", None),
    ("post", "/v1/retrieve", {"bot": "helper", "query": "throttling"}),
    ("post", "/v1/chat", {"bot": "helper", "message": "What is throttling?"}),
    ("get", "/v1/openai/models", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_key_naming_another_tenant_is_refused_like_a_token_is(
    kb, make_key, settings, method, path, body
):
    settings.CHAT_PROVIDER = "extractive"
    TenantFactory(slug="globex")
    key = make_key(kb.tenant, rate_limit="100000/m")
    assert asgi_call(method, path, body, {"Authorization": f"Bearer {key}"}).status_code == 200
    answers = {}
    for slug in ("globex", "no-such-tenant", "ACME"):
        for headers in (
            {"Authorization": f"Bearer {key}", "X-Tenant": slug},
            {"X-API-Key": key, "X-Tenant": slug},
        ):
            for _ in range(2):  # the second one finds the key in this process's cache
                res = asgi_call(method, path, body, headers)
                assert res.status_code == 401, (slug, headers, res.text)
                assert res.headers["WWW-Authenticate"]
                error = res.json()["error"]
                assert error["type"] == "authentication_failed"
                answers[slug] = error["message"].replace(repr(slug), "<slug>")
    # Whether the tenant named exists reads the same.
    assert len(set(answers.values())) == 1, answers
    assert "X-Tenant" in answers["globex"]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_key_naming_its_own_tenant_or_none_is_served(kb, make_key, settings, method, path, body):
    settings.CHAT_PROVIDER = "extractive"
    key = make_key(kb.tenant, rate_limit="100000/m")
    for tenant_header in ("acme", " acme ", ""):
        for _ in range(2):
            res = asgi_call(method, path, body, {"X-API-Key": key, "X-Tenant": tenant_header})
            assert res.status_code == 200, (tenant_header, res.text)


def test_the_shared_resolution_refuses_it_too(kb, make_key):
    """``tenants.auth.authenticate`` (used by the streams and the lanes) applies it too."""
    from chatbot_project.errors import APIError
    from tenants.auth import authenticate, authenticate_cached_or_aged

    TenantFactory(slug="globex")
    key = make_key(kb.tenant)
    assert authenticate({"Authorization": f"Bearer {key}"}).tenant == kb.tenant
    for lookup in (authenticate, authenticate_cached_or_aged):
        with pytest.raises(APIError) as caught:
            lookup({"Authorization": f"Bearer {key}", "X-Tenant": "globex"})
        assert caught.value.status_code == 401
