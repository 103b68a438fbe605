"""Changes made through the REST API are audit events: who, what, which fields (old/new), from
which request, in the transaction of the change; never key material or document text."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apikeys.models import APIKey
from audit.models import AuditEvent
from bots.models import Bot
from bots.services import bot_create
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PROMPT = "You answer questions about the handbook."


def _events(tenant, **filters):
    return list(AuditEvent.objects.for_tenant(tenant).filter(**filters).order_by("created_at"))


def _one(tenant, action, **filters):
    found = _events(tenant, action=action, **filters)
    assert len(found) == 1, [e.action for e in _events(tenant)]
    return found[0]


def _admin(tenant, make_key):
    raw = make_key(tenant, ("read", "write", "admin"), name="ops key")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_X_REQUEST_ID="req-audit-1")
    return client, APIKey.objects.get(tenant=tenant, name="ops key")


def test_api_key_create_and_revoke_are_recorded_without_the_key(tenant, make_key):
    client, caller = _admin(tenant, make_key)
    res = client.post("/v1/api-keys", {"name": "ci", "permissions": ["read"]}, format="json")
    assert res.status_code == 201, res.content
    raw = res.json()["key"]
    key = APIKey.objects.get(pk=res.json()["id"])
    assert client.delete(f"/v1/api-keys/{key.pk}").status_code == 200

    created = _one(tenant, "api_key.create", object_id=str(key.pk))
    assert (created.actor_type, created.actor_id) == ("api_key", str(caller.pk))
    assert caller.prefix in created.actor_label
    assert (created.object_type, created.object_id) == ("api_key", str(key.pk))
    assert created.changes["permissions"] == ["read"]
    assert (created.request_id, created.via, created.client_address) == (
        "req-audit-1",
        "api",
        "127.0.0.1",
    )
    revoked = _one(tenant, "api_key.revoke")
    assert revoked.object_id == str(key.pk)
    dumped = json.dumps(
        [[str(v) for v in e.__dict__.values()] for e in AuditEvent.objects.all()]
    )  # every column of every event
    assert raw not in dumped
    assert key.key_hash not in dumped
    assert raw[len(key.prefix) :] not in dumped


def test_bot_update_records_the_prompt_change_by_the_staff_user(tenant):
    bot = bot_create(tenant=tenant, data={"name": "Helper", "system_prompt": "Old prompt."})
    user = UserFactory(username="olga")
    MembershipFactory(tenant=tenant, user=user, role="admin")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    res = client.patch(
        f"/v1/bots/{bot.pk}", {"system_prompt": PROMPT, "retrieval": {"top_k": 7}}, format="json"
    )
    assert res.status_code == 200, res.content
    event = _one(tenant, "bot.update")
    assert (event.actor_type, event.actor_id, event.actor_label) == ("user", str(user.pk), "olga")
    assert event.changes == {
        "system_prompt": {"old": "Old prompt.", "new": PROMPT},
        "top_k": {"old": bot.top_k, "new": 7},
    }
    # A PATCH that changes nothing is not an event.
    client.patch(f"/v1/bots/{bot.pk}", {"system_prompt": PROMPT}, format="json")
    assert len(_events(tenant, action="bot.update")) == 1
    assert client.delete(f"/v1/bots/{bot.pk}").status_code == 204
    assert _one(tenant, "bot.delete").object_label == str(bot)


def test_scope_and_dataset_writes_are_recorded(tenant, make_key):
    client, _ = _admin(tenant, make_key)
    ds = client.post("/v1/datasets", {"name": "Docs"}, format="json").json()
    res = client.patch(
        f"/v1/datasets/{ds['id']}", {"chunk_size": 300, "chunk_overlap": 30}, format="json"
    )
    assert res.status_code == 200, res.content
    scope = client.post("/v1/scopes", {"name": "Public", "blocked_terms": ["x"]}, format="json")
    scope_id = scope.json()["id"]
    client.patch(f"/v1/scopes/{scope_id}", {"blocked_terms": ["x", "y"]}, format="json")
    assert client.delete(f"/v1/scopes/{scope_id}").status_code == 204
    assert client.delete(f"/v1/datasets/{ds['id']}").status_code == 204

    assert _one(tenant, "dataset.create").changes["name"] == {"old": None, "new": "Docs"}
    assert _one(tenant, "dataset.update").changes["chunk_size"]["new"] == 300
    assert _one(tenant, "scope.update").changes == {
        "blocked_terms": {"old": ["x"], "new": ["x", "y"]}
    }
    assert _one(tenant, "scope.delete").object_id == scope_id
    assert _one(tenant, "dataset.delete").object_id == ds["id"]
    assert _one(tenant, "scope.create").object_label == "public"


def test_document_writes_are_recorded_without_their_text(tenant, make_key):
    client, _ = _admin(tenant, make_key)
    ds = client.post("/v1/datasets", {"name": "Docs"}, format="json").json()
    secret_text = "The vault code is 4711 and only staff may read it."
    res = client.post(
        f"/v1/datasets/{ds['id']}/documents", {"text": secret_text, "title": "Vault"},
        format="json",
    )  # fmt: skip
    assert res.status_code == 202, res.content
    doc_id = res.json()["id"]
    client.patch(f"/v1/documents/{doc_id}", {"tags": ["staff"]}, format="json")
    assert client.post(f"/v1/documents/{doc_id}/reingest").status_code == 202
    assert client.delete(f"/v1/documents/{doc_id}").status_code == 204

    assert _one(tenant, "document.create").object_label == "Vault"
    assert _one(tenant, "document.update").changes == {"tags": {"old": [], "new": ["staff"]}}
    assert _one(tenant, "document.reingest").object_id == doc_id
    assert _one(tenant, "document.delete").object_id == doc_id
    dumped = json.dumps([[str(v) for v in e.__dict__.values()] for e in _events(tenant)])
    assert "4711" not in dumped


def test_tenant_settings_and_quotas_changes_are_recorded(tenant, make_key):
    client, _ = _admin(tenant, make_key)
    res = client.patch(
        "/v1/tenant", {"name": "Acme Corp", "quotas": {"max_bots": 5}}, format="json"
    )
    assert res.status_code == 200, res.content
    event = _one(tenant, "tenant.update")
    assert event.changes == {
        "name": {"old": "Acme", "new": "Acme Corp"},
        "quotas": {"old": {}, "new": {"max_bots": 5}},
    }


def test_a_change_rolled_back_leaves_no_event(tenant):
    def fails_after_the_write():
        with transaction.atomic():
            bot_create(tenant=tenant, data={"name": "Gone"})
            raise RuntimeError("the caller's transaction fails after the write")

    with pytest.raises(RuntimeError):
        fails_after_the_write()
    assert _events(tenant) == []
    assert not Bot.objects.filter(slug="gone").exists()


def test_a_refused_write_leaves_no_event(tenant, make_key):
    client, _ = _admin(tenant, make_key)
    client.post("/v1/bots", {"name": "Helper"}, format="json")
    res = client.post("/v1/bots", {"name": "Helper"}, format="json")  # slug taken: 409
    assert res.status_code == 409
    assert len(_events(tenant, action="bot.create")) == 1
