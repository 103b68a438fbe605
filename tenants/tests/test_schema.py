"""OpenAPI 3 schema at /v1/schema validates and documents both credentials; /docs renders."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

OUR_APPS = ("tenants/", "apikeys/", "bots/")


@pytest.fixture(scope="module")
def schema_and_log(django_db_blocker):
    import io
    from contextlib import redirect_stderr

    err = io.StringIO()
    with django_db_blocker.unblock(), redirect_stderr(err):
        res = APIClient().get("/v1/schema?format=json")
    assert res.status_code == 200, res.content[:500]
    return json.loads(res.content), err.getvalue()


def test_schema_is_valid_openapi_3(schema_and_log):
    schema, _ = schema_and_log
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_schema_documents_api_key_and_jwt_auth(schema_and_log):
    schema, _ = schema_and_log
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKeyBearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "cb_<key>",
        "description": schemes["apiKeyBearer"]["description"],
    }  # fmt: skip
    assert schemes["apiKeyHeader"]["in"] == "header"
    assert schemes["apiKeyHeader"]["name"] == "X-API-Key"
    assert schemes["jwtAuth"]["bearerFormat"] == "JWT"
    bots = schema["paths"]["/v1/bots"]["get"]
    assert {"apiKeyBearer": []} in bots["security"]
    assert {"jwtAuth": []} in bots["security"]
    assert schema["paths"]["/v1/auth/token"]["post"].get("security") in (None, [], [{}])
    assert "security" not in schema  # no global requirement: the token routes are open


def test_schema_describes_our_resources(schema_and_log):
    schema, _ = schema_and_log
    paths = schema["paths"]
    for path in ("/v1/tenant", "/v1/bots/{bot_id}", "/v1/scopes/{scope_id}",
                 "/v1/api-keys/{key_id}", "/v1/auth/token/refresh", "/v1/auth/logout"):  # fmt: skip
        assert path in paths, path
    listed = paths["/v1/bots"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    ref = listed["$ref"].rsplit("/", 1)[-1]
    page = schema["components"]["schemas"][ref]
    assert set(page["properties"]) == {"data", "next"}
    created = paths["/v1/api-keys"]["post"]["responses"]["201"]["content"]["application/json"]
    key_schema = schema["components"]["schemas"][created["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert "key" in key_schema["properties"]
    bot = schema["components"]["schemas"]["Bot"]
    assert {"retrieval", "datasets", "default_scope"} <= set(bot["properties"])


def test_component_names_do_not_double_their_suffix(schema_and_log):
    """drf-spectacular adds "Request" to a request body's name: the sign-in's body was
    TokenObtainRequestRequest (and refresh/logout's RefreshRequestRequest) in /docs and in
    clients generated from the schema."""
    import re

    schema, _ = schema_and_log
    names = schema["components"]["schemas"]
    doubled = [name for name in names if re.search(r"([A-Z][a-z]+)\1$", name)]
    assert not doubled, doubled
    paths = schema["paths"]
    bodies = {
        path: paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for path in ("/v1/auth/token", "/v1/auth/token/refresh", "/v1/auth/logout")
    }
    assert bodies == {
        "/v1/auth/token": "#/components/schemas/TokenObtainRequest",
        "/v1/auth/token/refresh": "#/components/schemas/RefreshRequest",
        "/v1/auth/logout": "#/components/schemas/RefreshRequest",
    }
    assert set(names["TokenObtainRequest"]["properties"]) == {"username", "password", "otp"}
    assert set(names["TokenObtainRequest"]["required"]) == {"username", "password"}


def test_our_views_generate_without_spectacular_warnings(schema_and_log):
    _, log = schema_and_log
    ours = [line for line in log.splitlines() if any(app in line for app in OUR_APPS)]
    assert not ours, "\n".join(ours)


def test_docs_page_renders_with_local_assets(client):
    res = client.get("/docs")
    assert res.status_code == 200
    page = res.content.decode()
    assert "swagger-ui" in page.lower()
    assert "cdn.jsdelivr.net" not in page
    assert "/static/drf_spectacular_sidecar/" in page


def test_docs_assets_are_served_without_debug(client, settings):
    settings.DEBUG = False
    page = client.get("/docs").content.decode()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        url = f"/static/drf_spectacular_sidecar/swagger-ui-dist/{asset}"
        assert url in page
        res = client.get(url)
        assert res.status_code == 200, url
    assert client.get("/static/drf_spectacular_sidecar/../../settings.py").status_code == 404


def test_every_operation_documents_the_error_body(schema_and_log):
    schema, _ = schema_and_log
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    for path, operations in schema["paths"].items():
        if path.startswith("/v1/health"):
            continue  # the probes answer no error body (chatbot_project/schema.py)
        for method, op in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for code in ("400", "429", "503"):
                assert code in op["responses"], (method, path, code)
            if op.get("security"):
                for code in ("401", "403", "404"):
                    assert code in op["responses"], (method, path, code)
    bots = schema["paths"]["/v1/bots"]["get"]["responses"]
    assert "X-RateLimit-Remaining" in bots["200"]["headers"]
    assert bots["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_operations_publish_no_internal_docstrings(schema_and_log):
    schema, _ = schema_and_log
    leaked = [
        f"{method.upper()} {path}: {op['description'][:60]}"
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if "self." in op.get("description", "") or "``" in op.get("description", "")
    ]
    assert not leaked, leaked  # was: "Base view: ``self.tenant``/..." on 24 operations
    params = {p["name"]: p for p in schema["paths"]["/v1/bots"]["get"]["parameters"]}
    assert "1 to 100" in params["limit"]["description"]
    assert "next" in params["cursor"]["description"]


def test_components_publish_no_internal_docstrings(schema_and_log):
    """StrictSerializer's docstring (a note for developers) was the description of every body
    built on it in /docs: Bot, Scope, Tenant, their requests..."""
    schema, _ = schema_and_log
    leaked = [
        f"{name}: {component['description'][:60]}"
        for name, component in schema["components"]["schemas"].items()
        if "Rejects unknown fields" in component.get("description", "")
    ]
    assert not leaked, leaked


def test_docs_page_has_a_csp_no_inline_script_and_no_csrf_cookie(client):
    """/docs runs under a Content-Security-Policy (scripts only from this origin) and sets no
    csrftoken cookie (the API has no session auth; drf-spectacular's page set one per visit)."""
    import re

    res = client.get("/docs")
    assert "script-src 'self'" in res["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in res["Content-Security-Policy"]
    page = res.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts
    assert all("src=" in attrs and not body.strip() for attrs, body in scripts)
    init = re.search(r'<script src="([^"]*script[^"]*)"', page).group(1)
    script = client.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert "csrftoken" not in res.cookies
    assert "csrftoken" not in script.cookies
    assert "csrftoken" not in client.cookies
