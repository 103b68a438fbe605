"""Every answer of POST /v1/auth/token is documented with the error type the code gives it, in
docs/api.md's table and in the OpenAPI schema: the docs listed none of the newer ones (429
per address, per username and for held-back codes, 401 for a user with no active tenant), and
the schema's 401 said only "missing, invalid, revoked or expired credential"."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from chatbot_project.testing.processes import BASE_DIR
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _post(body, address: str = "192.0.2.1"):
    return APIClient().post("/v1/auth/token", body, format="json", REMOTE_ADDR=address)


def _post_raw(text: str):
    return Client().post("/v1/auth/token", text, content_type="application/json")


def _documented() -> dict[str, str]:
    """docs/api.md's table of the route's answers: status -> error type."""
    text = (BASE_DIR / "docs/api.md").read_text()
    table = text.split("`POST /v1/auth/token` answers", 1)
    assert len(table) == 2, "docs/api.md has no table of POST /v1/auth/token's answers"
    rows = re.findall(r"^\| `(\d{3})` \| (?:`([a-z_]+)`)? *\|", table[1], re.MULTILINE)
    return {status: kind for status, kind in rows}


def _answers(tenant) -> list[tuple[str, object]]:
    olga = UserFactory(username="olga")
    MembershipFactory(tenant=tenant, user=olga, role="owner")
    UserFactory(username="nomad")  # no membership
    coded = UserFactory(username="coded")
    MembershipFactory(tenant=tenant, user=coded, role="owner")
    device = TOTPDevice.objects.create(user=coded, name="phone", confirmed=True)
    answers = [
        ("signed in", _post({"username": "olga", "password": PASSWORD})),
        ("not an object", _post(["olga"])),
        ("unknown field", _post({"username": "olga", "password": PASSWORD, "x": 1})),
        ("not a string", _post({"username": 5, "password": PASSWORD})),
        ("no password", _post({"username": "olga"})),
        ("not JSON", _post_raw("{")),
        ("a form", Client().post("/v1/auth/token", {"username": "olga", "password": "x"})),
        ("a GET", Client().get("/v1/auth/token")),
        ("too large", _post_raw(json.dumps({"username": "a" * (3 << 20)}))),
        ("wrong password", _post({"username": "olga", "password": "guess"})),
        ("no code", _post({"username": "coded", "password": PASSWORD})),
        ("wrong code", _post({"username": "coded", "password": PASSWORD, "otp": "abcdef"})),
        ("no active tenant", _post({"username": "nomad", "password": PASSWORD})),
    ]
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=5, throttling_failure_timestamp=timezone.now()
    )
    answers.append(
        ("codes held back", _post({"username": "coded", "password": PASSWORD, "otp": "123456"}))
    )
    for i in range(settings.SIGN_IN_FAILURES_PER_USERNAME):
        _post({"username": "ghost", "password": "guess"}, f"198.51.100.{i}")
    answers.append(("username limit", _post({"username": "ghost", "password": "x"}, "10.0.0.1")))
    for _ in range(20):
        _post({"username": "someone", "password": "guess"}, "203.0.113.9")
    answers.append(
        ("address limit", _post({"username": "olga", "password": PASSWORD}, "203.0.113.9"))
    )
    return answers


def test_each_answer_is_in_the_docs_and_the_schema_with_its_error_type(tenant):
    documented = _documented()
    schema = json.loads(APIClient().get("/v1/schema?format=json").content)
    responses = schema["paths"]["/v1/auth/token"]["post"]["responses"]
    seen = set()
    for case, res in _answers(tenant):
        status = str(res.status_code)
        seen.add(status)
        assert status in documented, (case, status)
        if status == "200":
            assert set(res.json()) == {"access", "refresh"}
            continue
        kind = res.json()["error"]["type"]
        assert documented[status] == kind, (case, status, kind)
        if status != "405":  # (not an operation of the schema)
            assert f"(`{kind}`)" in responses[status]["description"], (case, status)
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }
    assert seen == set(documented) - {"503"}  # (503: the database or Redis down)
    assert documented["503"] == "unavailable"
    assert "(`unavailable`)" in responses["503"]["description"]
    # The schema says what the newer answers are, not only "a credential".
    assert "no membership in an active tenant" in responses["401"]["description"]
    for reason in ("from this address", "for this username", "codes held back"):
        assert reason in responses["429"]["description"], reason
