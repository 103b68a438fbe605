"""Absolute isolation, generated from the URL patterns (routes added later are covered too).

Tenant B's admin key against every tenant-A object route and method: 404, byte-identical to the
404 of a random UUID. B's list endpoints never show A's objects. A's ids in B's request bodies are
rejected like unknown ids. And a key without ``write`` gets 403 on every write route.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tenants.permissions import required_permission
from tenants.tests.matrix import (
    World,
    api_routes,
    collection_routes,
    object_routes,
    random_values,
)

pytestmark = pytest.mark.django_db

OBJECT_ROUTES = object_routes()
COLLECTION_ROUTES = collection_routes()


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _call(client: APIClient, method: str, url: str, body: dict):
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


@pytest.fixture
def b_admin(other_tenant, make_key) -> APIClient:
    return _client(make_key(other_tenant, rate_limit="100000/m"))


def test_matrix_covers_the_known_object_routes():
    templates = {r.template for r in OBJECT_ROUTES}
    for expected in (
        "/v1/bots/<id:bot_id>",
        "/v1/scopes/<id:scope_id>",
        "/v1/api-keys/<id:key_id>",
    ):
        assert expected in templates


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=str)
def test_other_tenants_object_is_indistinguishable_from_a_missing_one(route, tenant, b_admin):
    world = World(tenant)
    a_url = route.url(world.values_for(route))
    random_url = route.url(random_values(route))
    methods = route.methods or ("get", "post", "put", "patch", "delete")
    problems = []
    for method in methods:
        theirs = _call(b_admin, method, a_url, route.body())
        missing = _call(b_admin, method, random_url, route.body())
        if theirs.content != missing.content or theirs.status_code != missing.status_code:
            problems.append(
                f"{method.upper()} {route}: A's object gave {theirs.status_code} "
                f"{theirs.content[:200]!r}, a random id gave {missing.status_code} "
                f"{missing.content[:200]!r}"
            )
        expected = {404} if route.methods is not None else {404, 405}
        if theirs.status_code not in expected:
            problems.append(f"{method.upper()} {route}: {theirs.status_code}, expected 404")
        elif theirs.status_code == 404:
            assert theirs.json()["error"]["type"] == "not_found"
    assert not problems, "\n".join(problems)
    # And nothing of A's changed: each object is still there.
    for obj in world.objects.values():
        assert type(obj).objects.filter(pk=obj.pk).exists(), obj


@pytest.mark.parametrize("route", COLLECTION_ROUTES, ids=str)
def test_list_endpoints_never_include_other_tenants_objects(route, tenant, b_admin):
    world = World(tenant)
    ids = [str(obj.pk) for obj in world.everything()]
    assert ids
    if route.methods is not None and "get" not in route.methods:
        pytest.skip(f"{route} has no GET")
    res = b_admin.get(route.url({}))
    body = res.content.decode(errors="replace")
    leaked = [i for i in ids if i in body]
    assert not leaked, f"GET {route} ({res.status_code}) shows tenant A's ids {leaked}"


def test_own_objects_are_visible_in_lists(api, tenant):
    """The negative test above means something: A's own key does see them."""
    world = World(tenant)
    bot, scope = world.get("bot_id"), world.get("scope_id")
    assert str(bot.pk) in api.get("/v1/bots").content.decode()
    assert str(scope.pk) in api.get("/v1/scopes").content.decode()


def _foreign_bodies(world: World) -> list[tuple[str, str, dict]]:
    scope, bot = world.get("scope_id"), world.get("bot_id")
    bodies = [
        ("post", "/v1/bots", {"name": "b1", "default_scope": str(scope.pk)}),
        ("post", "/v1/api-keys", {"name": "k", "bots": [str(bot.pk)]}),
        ("post", "/v1/api-keys", {"name": "k", "scopes": [str(scope.pk)]}),
    ]
    try:
        dataset = world.get("dataset_id")
    except pytest.skip.Exception:
        return bodies
    return [
        *bodies,
        ("post", "/v1/bots", {"name": "b2", "datasets": [str(dataset.pk)]}),
        ("post", "/v1/scopes", {"name": "s1", "datasets": [str(dataset.pk)]}),
    ]


def test_other_tenants_ids_in_bodies_are_rejected_like_unknown_ids(tenant, other_tenant, b_admin):
    world = World(tenant)
    b_world = World(other_tenant)
    b_bot, b_scope = b_world.get("bot_id"), b_world.get("scope_id")
    targets = [
        ("patch", f"/v1/bots/{b_bot.pk}", {"default_scope": str(world.get("scope_id").pk)}),
    ]
    try:
        ds = str(world.get("dataset_id").pk)
        targets += [
            ("patch", f"/v1/bots/{b_bot.pk}", {"datasets": [ds]}),
            ("patch", f"/v1/scopes/{b_scope.pk}", {"datasets": [ds]}),
        ]
    except pytest.skip.Exception:
        pass
    for method, url, body in [*_foreign_bodies(world), *targets]:
        res = _call(b_admin, method, url, body)
        assert res.status_code == 400, (method, url, res.content)
        assert res.json()["error"]["type"] == "invalid_request"
        # Same answer as for an id that exists nowhere (once the id in the text is swapped).
        placeholder = "00000000-0000-4000-8000-000000000000"
        text = res.content.decode()
        foreign = json.dumps(body)
        for obj in world.objects.values():
            foreign = foreign.replace(str(obj.pk), placeholder)
            text = text.replace(str(obj.pk), placeholder)
        unknown = _call(b_admin, method, url, json.loads(foreign))
        assert unknown.status_code == 400
        assert text == unknown.content.decode()
    # Nothing was created or linked in B.
    b_bot.refresh_from_db()
    assert b_bot.default_scope_id is None
    assert not b_bot.datasets.exists()


# --------------------------------------------------------------------------- permissions
def _write_routes() -> list[tuple[str, str]]:
    class _Req:
        def __init__(self, method: str) -> None:
            self.method = method

    out = []
    for route in api_routes():
        if route.methods is None or route.is_public or route.converters - {"id"}:
            continue
        view = route.view_class
        for method in route.methods:
            if method == "get":
                continue
            if required_permission(_Req(method.upper()), view) in ("write", "admin"):
                out.append((route, method))
    return out


WRITE_ROUTES = _write_routes()


def test_write_routes_cover_every_managed_resource():
    covered = {(str(r), m) for r, m in WRITE_ROUTES}
    for expected in (
        ("/v1/bots", "post"),
        ("/v1/bots/<id:bot_id>", "patch"),
        ("/v1/bots/<id:bot_id>", "delete"),
        ("/v1/scopes", "post"),
        ("/v1/scopes/<id:scope_id>", "patch"),
        ("/v1/scopes/<id:scope_id>", "delete"),
        ("/v1/api-keys", "post"),
        ("/v1/api-keys/<id:key_id>", "delete"),
        ("/v1/tenant", "patch"),
    ):
        assert expected in covered, expected
    # Every write on a tenant resource needs write/admin (none is mistakenly `read`).
    for route in api_routes():
        if str(route).startswith(("/v1/bots", "/v1/scopes", "/v1/datasets", "/v1/api-keys")):
            for method in route.methods or ():
                if method != "get":
                    assert (str(route), method) in covered, (str(route), method)


@pytest.mark.parametrize(("route", "method"), WRITE_ROUTES, ids=lambda v: str(v))
def test_key_without_write_gets_403_on_every_write_route(route, method, tenant, make_key):
    world = World(tenant)
    url = route.url(world.values_for(route))
    reader = _client(make_key(tenant, ("chat", "read"), rate_limit="100000/m"))
    res = _call(reader, method, url, route.body())
    assert res.status_code == 403, (method, url, res.content)
    assert res.json()["error"]["type"] == "permission_denied"
    for obj in world.objects.values():
        assert type(obj).objects.filter(pk=obj.pk).exists()
