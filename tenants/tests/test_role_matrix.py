"""Who may call what, exhaustively: every /v1/ route and method against staff tokens of each role
(owner, admin, member) and API keys of each single permission, in a tenant that holds one
object of every kind (``matrix.World``).

The expected permission of each route comes from API.md's table (written out here, so a view
that declares another one fails); a credential lacking it gets 403 ``permission_denied`` and
changes nothing, one holding it is never refused for permission (its answer is a 2xx or API.md's
error body for its input, never a 5xx). A route that is not in the table fails the test until
it is added, so a new route is checked too.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tenants.context import ROLE_PERMISSIONS
from tenants.permissions import required_permission
from tenants.tests.factories import MembershipFactory, UserFactory
from tenants.tests.matrix import World, api_routes

pytestmark = pytest.mark.django_db

# API.md's resource table (and the chat routes: `chat`); routes past it noted as such.
EXPECTED: dict[str, dict[str, str]] = {
    "/v1/tenant": {"get": "read", "patch": "admin"},
    "/v1/api-keys": {"get": "admin", "post": "admin"},
    "/v1/api-keys/<id:key_id>": {"get": "admin", "delete": "admin"},
    "/v1/api-keys/<id:key_id>/rotate": {"post": "admin"},
    "/v1/bots": {"get": "read", "post": "write"},
    "/v1/bots/<id:bot_id>": {"get": "read", "patch": "write", "delete": "write"},
    "/v1/scopes": {"get": "read", "post": "write"},
    "/v1/scopes/<id:scope_id>": {"get": "read", "patch": "write", "delete": "write"},
    "/v1/datasets": {"get": "read", "post": "write"},
    "/v1/datasets/<id:dataset_id>": {"get": "read", "patch": "write", "delete": "write"},
    "/v1/datasets/<id:dataset_id>/documents": {"get": "read", "post": "write"},
    # (PATCH: beyond API.md's GET, DELETE; a write like the others)
    "/v1/documents/<id:document_id>": {"get": "read", "patch": "write", "delete": "write"},
    "/v1/documents/<id:document_id>/reingest": {"post": "write"},
    "/v1/documents/<id:document_id>/chunks": {"get": "read"},
    "/v1/conversations": {"get": "read", "delete": "write"},  # (DELETE ?user=: beyond API.md)
    "/v1/conversations/<id:conversation_id>": {"get": "read", "delete": "write"},
    "/v1/messages/<id:message_id>/feedback": {"post": "chat", "delete": "chat"},  # (+ DELETE)
    "/v1/usage": {"get": "read"},
    "/v1/unanswered": {"get": "read"},  # (beyond API.md: content gaps)
    "/v1/audit": {"get": "admin"},  # (beyond API.md: the audit log)
    "/v1/chat": {"post": "chat"},
    "/v1/retrieve": {"post": "chat"},
    "/v1/openai/models": {"get": "chat"},
    "/v1/openai/chat/completions": {"post": "chat"},
}
# Answered without credentials, or with a path parameter that is not an id.
NOT_TENANT_ROUTES = {
    "/v1/health", "/v1/health/ready", "/v1/schema", "/v1/auth/token", "/v1/auth/token/refresh",
    "/v1/auth/logout", "/v1/openai/models/<str:model>",
}  # fmt: skip
BODIES = {
    "/v1/chat": {"bot": "bot-x", "message": "hello"},
    "/v1/retrieve": {"bot": "bot-x", "query": "hello"},
    "/v1/openai/chat/completions": {
        "model": "bot-x",
        "messages": [{"role": "user", "content": "hello"}],
    },
}

# Refused on purpose although the permission is held: a credential never revokes a key holding
# permissions it lacks (apikeys.services.api_key_revoke_for), and World's key has chat + read.
BEYOND_ITS_OWN = {
    ("key:admin", "/v1/api-keys/<id:key_id>", "delete"),
    ("key:admin", "/v1/api-keys/<id:key_id>/rotate", "post"),
}

CREDENTIALS = [
    *(f"role:{role}" for role in ROLE_PERMISSIONS),
    *(f"key:{p}" for p in ("chat", "read", "write", "admin")),
    "key:chat+read",
]


def _cases() -> list[tuple[str, str]]:
    out = []
    for route in api_routes():
        if route.template in NOT_TENANT_ROUTES:
            continue
        methods = route.methods or tuple(EXPECTED.get(route.template, {"get": "?"}))
        out += [(route.template, method) for method in methods]
    return out


def test_every_tenant_route_is_in_the_table_with_api_mds_permission():
    class _Req:
        def __init__(self, method: str) -> None:
            self.method = method.upper()

    seen = {}
    for route in api_routes():
        if route.template in NOT_TENANT_ROUTES:
            continue
        assert route.template in EXPECTED, f"{route}: add it to EXPECTED (API.md's permission)"
        if route.methods is not None:  # a DRF view: its declared permission per method
            seen[route.template] = {
                m: required_permission(_Req(m), route.view_class) for m in route.methods
            }
            assert seen[route.template] == EXPECTED[route.template], route.template
    assert set(EXPECTED) - {r.template for r in api_routes()} == set()


def _client(credential: str, tenant, make_key) -> tuple[APIClient, frozenset[str]]:
    kind, _, what = credential.partition(":")
    client = APIClient()
    if kind == "role":
        user = UserFactory(username=f"staff-{what}")
        MembershipFactory(tenant=tenant, user=user, role=what)
        tokens = APIClient().post(
            "/v1/auth/token",
            {"username": user.username, "password": "correct-horse-battery"},
            format="json",
        )
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
        return client, ROLE_PERMISSIONS[what]
    permissions = tuple(what.split("+"))
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_key(tenant, permissions, rate_limit='100000/m')}"
    )
    return client, frozenset(permissions)


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_each_credential_is_refused_exactly_where_it_lacks_the_permission(
    credential, tenant, make_key, settings
):
    settings.RATE_LIMIT_DEFAULT = "100000/m"
    settings.CHAT_PROVIDER = "extractive"
    routes = {r.template: r for r in api_routes()}
    client, held = _client(credential, tenant, make_key)
    problems = []
    for template, method in _cases():
        route = routes[template]
        world = World(tenant)  # fresh objects: a DELETE before must not turn this into a 404
        url = route.url(world.values_for(route))
        body = BODIES.get(template, route.body())
        if method in ("get", "delete"):
            res = getattr(client, method)(url)
        else:
            res = getattr(client, method)(url, json.dumps(body), content_type="application/json")
        needed = EXPECTED[template][method]
        label = f"{credential} {method.upper()} {template}"
        if res.status_code >= 500:
            problems.append(f"{label}: {res.status_code} {res.content[:200]!r}")
        elif needed not in held:
            if res.status_code != 403 or res.json()["error"]["type"] != "permission_denied":
                problems.append(f"{label}: {res.status_code}, expected 403 (needs {needed})")
            gone = [o for o in world.objects.values() if not type(o).objects.filter(pk=o.pk)]
            if gone:
                problems.append(f"{label}: refused, yet deleted {gone}")
        elif res.status_code == 403 and (credential, template, method) in BEYOND_ITS_OWN:
            assert "more restricted than that key" in res.json()["error"]["message"]
        elif res.status_code == 403:
            problems.append(f"{label}: 403 although it holds {needed}: {res.content[:200]!r}")
        elif res.status_code >= 300 and set(res.json()) != {"error"}:
            problems.append(f"{label}: {res.status_code} without API.md's error body")
    assert not problems, "\n".join(problems)
