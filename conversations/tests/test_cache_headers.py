"""The API's answers are not stored by browsers or proxies: ``Cache-Control: no-store`` on every
/v1/ response (a new API key is shown once, a token answer carries JWTs, RFC 6749 5.1), on
Django's path and the fast lane alike; a route's own Cache-Control (SSE's no-cache) stays."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from conversations.tests.test_fastlane import Q, _django, _post
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_api_key_and_tenant_data_are_no_store(api):
    created = api.post("/v1/api-keys", {"name": "ci", "permissions": ["chat"]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["key"].startswith("cb_")
    assert created["Cache-Control"] == "no-store"
    for path in ("/v1/tenant", "/v1/bots", "/v1/no-such-route"):
        assert api.get(path)["Cache-Control"] == "no-store", path


def test_token_answers_are_no_store(tenant):
    user = UserFactory(username="olga")
    user.set_password("correct-horse-battery")
    user.save()
    MembershipFactory(tenant=tenant, user=user, role="owner")
    res = APIClient().post(
        "/v1/auth/token",
        {"username": "olga", "password": "correct-horse-battery"},
        format="json",
    )
    assert res.status_code == 200, res.content
    assert res["Cache-Control"] == "no-store"
    refreshed = APIClient().post(
        "/v1/auth/token/refresh", {"refresh": res.json()["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200, refreshed.content
    assert refreshed["Cache-Control"] == "no-store"


def test_fast_lane_and_django_both_say_no_store(kb, make_key, served):
    key = make_key(kb.tenant, ("chat",))
    payload = {"bot": "helper", "query": Q}
    fast = _post(key, payload)
    slow = _post(key, payload, app=_django())
    assert served == [1]
    assert fast.headers["Cache-Control"] == slow.headers["Cache-Control"] == "no-store"


def test_a_chat_stream_keeps_its_own_cache_control(kb, make_key, openai_stub):
    key = make_key(kb.tenant, ("chat",))
    for app in (None, _django()):
        res = _post(key, {"bot": "helper", "message": Q, "stream": True}, app=app, path="/v1/chat")
        assert res.status_code == 200
        assert res.headers.get_list("Cache-Control") == ["no-cache"]
