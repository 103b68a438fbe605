"""GET /v1/audit: admin only, the tenant's own events, newest first, filtered, paginated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audit.context import Actor, acting_as
from audit.models import AuditEvent
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def _record(tenant, action, object_id="", actor="olga", when=None):
    with acting_as(Actor(type="user", id="7", label=actor)):
        event = audit_record(tenant=tenant, action=action, object_id=object_id, label=action)
    if when is not None:
        AuditEvent.objects.filter(pk=event.pk).update(created_at=when)
    return event


def _actions(res):
    assert res.status_code == 200, res.content
    return [e["action"] for e in res.json()["data"]]


def test_read_and_write_keys_are_refused(tenant, client_for):
    for permissions in (("read",), ("read", "write"), ("chat",)):
        res = client_for(tenant, permissions).get("/v1/audit")
        assert res.status_code == 403
        assert res.json()["error"]["type"] == "permission_denied"


def test_another_tenants_events_are_never_listed(tenant, other_tenant, client_for):
    _record(other_tenant, "bot.delete", object_id="theirs")
    mine = client_for(tenant, ("admin",))
    assert "bot.delete" not in _actions(mine.get("/v1/audit"))
    assert _actions(mine.get("/v1/audit?object_id=theirs")) == []


def test_newest_first_with_actor_and_object(tenant, client_for):
    api = client_for(tenant, ("admin",))
    _record(tenant, "bot.create", object_id="b1")
    _record(tenant, "bot.update", object_id="b1")
    body = api.get("/v1/audit?object_type=bot").json()
    assert [e["action"] for e in body["data"]] == ["bot.update", "bot.create"]
    first = body["data"][0]
    assert first["actor"] == {"type": "user", "id": "7", "label": "olga"}
    assert first["object"] == {"type": "bot", "id": "b1", "label": "bot.update"}
    assert set(first) >= {"id", "created_at", "changes", "request_id", "client_address", "via"}


def test_filters(tenant, client_for):
    api = client_for(tenant, ("admin",))  # (its own creation is an event by "system")
    now = timezone.now()
    _record(tenant, "bot.create", object_id="b1", when=now - dt.timedelta(days=3))
    _record(tenant, "api_key.revoke", object_id="k1", actor="ivan", when=now - dt.timedelta(days=1))
    _record(tenant, "api_key.create", object_id="k2")
    assert _actions(api.get("/v1/audit?action=api_key.revoke")) == ["api_key.revoke"]
    assert len(_actions(api.get("/v1/audit?action=api_key."))) == 3
    assert _actions(api.get("/v1/audit?object_type=bot")) == ["bot.create"]
    assert _actions(api.get("/v1/audit?object_id=k2")) == ["api_key.create"]
    assert _actions(api.get("/v1/audit?actor=ivan")) == ["api_key.revoke"]
    assert _actions(api.get("/v1/audit?actor=7&object_type=bot")) == ["bot.create"]
    day = (now - dt.timedelta(days=2)).date().isoformat()  # (a date: its whole day included)
    assert _actions(api.get(f"/v1/audit?to={day}")) == ["bot.create"]
    day = (now - dt.timedelta(days=4)).date().isoformat()
    assert _actions(api.get(f"/v1/audit?to={day}")) == []
    start = (now - dt.timedelta(days=4)).isoformat().replace("+00:00", "Z")
    end = (now - dt.timedelta(hours=12)).isoformat().replace("+00:00", "Z")
    assert _actions(api.get("/v1/audit", {"from": start, "to": end})) == [
        "api_key.revoke",
        "bot.create",
    ]


@pytest.mark.parametrize(
    "query",
    ["from=yesterday", "to=2026-13-01", "from=2026-11-24T10:00:00", "action=Bot Create",
     "object_type=", "from=2026-11-25&to=2026-11-24", "actor=" + "x" * 201, "limit=0",
     "cursor=!!!"],
)  # fmt: skip
def test_bad_filters_are_400(tenant, client_for, query):
    res = client_for(tenant, ("admin",)).get(f"/v1/audit?{query}")
    assert res.status_code == 400, res.content
    assert res.json()["error"]["type"] == "invalid_request"
    assert res.json()["error"]["message"]


def test_pages_follow_next_without_repeats(tenant, client_for):
    api = client_for(tenant, ("admin",))
    for n in range(24):
        _record(tenant, "document.delete", object_id=f"d{n}")
    seen, url = [], "/v1/audit?action=document.delete&limit=10"
    while url:
        body = api.get(url).json()
        seen += [e["object"]["id"] for e in body["data"]]
        url = body["next"] and f"/v1/audit?action=document.delete&limit=10&cursor={body['next']}"
    assert seen == [f"d{n}" for n in reversed(range(24))]


def test_schema_documents_the_route(client):
    res = client.get("/v1/schema", HTTP_ACCEPT="application/json")
    assert res.status_code == 200
    text = res.content.decode()
    assert "/v1/audit" in text
    assert "audit_list" in text
