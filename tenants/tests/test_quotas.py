"""Tenant quotas: PATCH /v1/tenant validates them, GET shows them with the usage, and creating
bots, datasets and API keys beyond them is a 409 through the API and the management commands.
Documents and storage: datasets/tests/test_document_quotas.py."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apikeys.models import APIKey
from apikeys.tests.factories import APIKeyFactory
from bots.models import Bot
from bots.tests.factories import BotFactory
from datasets.models import Dataset
from datasets.tests.factories import DatasetFactory, DocumentFactory
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def _set_quotas(api, quotas):
    res = api.patch("/v1/tenant", {"quotas": quotas}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def _bot(api, name):
    return api.post("/v1/bots", {"name": name}, format="json")


def test_quotas_are_replaced_and_shown_with_the_usage(api, tenant, other_tenant):
    BotFactory(tenant=tenant)
    DocumentFactory(dataset=DatasetFactory(tenant=tenant), size_bytes=3 * 1024 * 1024 // 2)
    BotFactory(tenant=other_tenant)  # another tenant's objects count for nobody here
    DocumentFactory(dataset=DatasetFactory(tenant=other_tenant), size_bytes=10 << 20)
    APIKeyFactory(tenant=tenant, revoked_at=timezone.now())  # revoked: not counted
    APIKeyFactory(tenant=tenant, expires_at=timezone.now() - timedelta(days=1))  # expired

    body = _set_quotas(api, {"max_bots": 5, "max_documents": None, "max_storage_mb": 0})
    assert body["quotas"] == {"max_bots": 5, "max_documents": None, "max_storage_mb": 0}
    usage = {"bots": 1, "datasets": 1, "documents": 1, "storage_mb": 1.5, "api_keys": 1}
    assert body["usage"] == usage
    # PATCH replaces the whole dict (keys left out are no longer set).
    body = _set_quotas(api, {"max_datasets": 2})
    assert body["quotas"] == {"max_datasets": 2}
    got = api.get("/v1/tenant").json()
    assert (got["quotas"], got["usage"]) == ({"max_datasets": 2}, usage)
    assert api.patch("/v1/tenant", {"usage": {}}, format="json").status_code == 400  # read-only


@pytest.mark.parametrize(
    ("quotas", "key", "problem"),
    [
        ({"max_bots": -5}, "max_bots", "Must be a whole number"),
        ({"max_bots": 1.5}, "max_bots", "Must be a whole number"),
        ({"max_datasets": 2.0}, "max_datasets", "Must be a whole number"),
        ({"max_documents": True}, "max_documents", "Must be a whole number"),
        ({"max_storage_mb": "100"}, "max_storage_mb", "Must be a whole number"),
        ({"max_api_keys": [1]}, "max_api_keys", "Must be a whole number"),
        ({"max_bots": 3, "messages_per_day": 1000}, "messages_per_day", "Unknown quota"),
        ({"max_bot": 3}, "max_bot", "Unknown quota; use max_api_keys, max_bots,"),
    ],
)
def test_bad_quotas_are_400_naming_the_key(api, tenant, quotas, key, problem):
    _set_quotas(api, {"max_bots": 9})
    res = api.patch("/v1/tenant", {"quotas": quotas}, format="json")
    assert res.status_code == 400, res.content
    error = res.json()["error"]
    assert error["type"] == "invalid_request"
    assert error["message"].startswith(f"quotas: {key}: {problem}")
    assert key in error["details"]["fields"]["quotas"]
    tenant.refresh_from_db()
    assert tenant.quotas == {"max_bots": 9}


def test_bad_quotas_are_refused_by_the_model_too(tenant):
    from django.core.exceptions import ValidationError

    tenant.quotas = {"max_bots": -1}
    with pytest.raises(ValidationError, match="max_bots: Must be a whole number"):
        tenant.full_clean()  # the admin's form and tenant_update run this


def test_bot_quota_is_a_409_through_the_api(api, tenant):
    _set_quotas(api, {"max_bots": 2})
    assert _bot(api, "One").status_code == 201
    assert _bot(api, "Two").status_code == 201
    res = _bot(api, "Three")
    assert res.status_code == 409, res.content
    assert res.json()["error"] == {
        "type": "conflict",
        "message": "This tenant has reached its quota of 2 bots (quotas.max_bots); "
        "delete one or raise the quota.",
        "details": {"quota": "max_bots", "limit": 2},
    }
    assert Bot.objects.for_tenant(tenant).count() == 2
    _set_quotas(api, {"max_bots": 3})
    assert _bot(api, "Three").status_code == 201


def test_dataset_quota_is_a_409_through_the_api(api, tenant):
    _set_quotas(api, {"max_datasets": 1})
    assert api.post("/v1/datasets", {"name": "A"}, format="json").status_code == 201
    res = api.post("/v1/datasets", {"name": "B"}, format="json")
    assert res.status_code == 409, res.content
    assert res.json()["error"]["message"] == (
        "This tenant has reached its quota of 1 dataset (quotas.max_datasets); "
        "delete one or raise the quota."
    )
    assert res.json()["error"]["details"] == {"quota": "max_datasets", "limit": 1}
    assert Dataset.objects.for_tenant(tenant).count() == 1


def test_api_key_quota_counts_active_keys_only(api, tenant):
    # `api` holds one key; a revoked and an expired key do not count.
    APIKeyFactory(tenant=tenant, revoked_at=timezone.now())
    APIKeyFactory(tenant=tenant, expires_at=timezone.now() - timedelta(hours=1))
    _set_quotas(api, {"max_api_keys": 2})
    res = api.post("/v1/api-keys", {"name": "second"}, format="json")
    assert res.status_code == 201, res.content
    res = api.post("/v1/api-keys", {"name": "third"}, format="json")
    assert res.status_code == 409, res.content
    assert res.json()["error"]["message"] == (
        "This tenant has reached its quota of 2 active API keys (quotas.max_api_keys); "
        "revoke one or raise the quota."
    )
    second = APIKey.objects.get(name="second")
    assert api.delete(f"/v1/api-keys/{second.id}").status_code == 200
    assert api.post("/v1/api-keys", {"name": "third"}, format="json").status_code == 201


def test_null_or_missing_quota_is_no_limit(api, tenant):
    _set_quotas(api, {"max_bots": None, "max_datasets": 0})
    for name in ("a", "b", "c"):
        assert _bot(api, name).status_code == 201
    assert api.post("/v1/datasets", {"name": "A"}, format="json").status_code == 409


def test_another_tenants_objects_never_count(api, other_api, tenant, other_tenant):
    for _ in range(3):
        BotFactory(tenant=other_tenant)
        DatasetFactory(tenant=other_tenant)
        APIKeyFactory(tenant=other_tenant)
    _set_quotas(api, {"max_bots": 1, "max_datasets": 1, "max_api_keys": 2})
    assert _bot(api, "mine").status_code == 201
    assert api.post("/v1/datasets", {"name": "mine"}, format="json").status_code == 201
    assert api.post("/v1/api-keys", {"name": "mine"}, format="json").status_code == 201
    assert _bot(api, "mine-2").status_code == 409
    # ...and this tenant's quota never stops the other tenant.
    assert _bot(other_api, "theirs").status_code == 201
    assert other_api.post("/v1/datasets", {"name": "theirs"}, format="json").status_code == 201


def test_create_api_key_command_prints_the_quota_sentence(tenant):
    Tenant.objects.filter(pk=tenant.pk).update(quotas={"max_api_keys": 0})
    with pytest.raises(CommandError, match=r"quota of 0 active API keys \(quotas.max_api_keys\)"):
        call_command(
            "create_api_key", "--tenant", "acme", "--name", "x",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert not APIKey.objects.exists()


def test_ingest_command_prints_the_quota_sentence(tenant, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nSome text.")
    Tenant.objects.filter(pk=tenant.pk).update(quotas={"max_datasets": 0})
    with pytest.raises(CommandError, match=r"quota of 0 datasets \(quotas.max_datasets\)"):
        call_command("ingest", str(note), tenant="acme", dataset="Inbox", stderr=io.StringIO())
    assert not Dataset.objects.exists()

    DatasetFactory(tenant=tenant, name="Inbox")
    Tenant.objects.filter(pk=tenant.pk).update(quotas={"max_documents": 0})
    with pytest.raises(CommandError, match=r"quota of 0 documents \(quotas.max_documents\)"):
        call_command(
            "ingest", str(note), tenant="acme", dataset="Inbox",
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip


def test_quota_race_lets_only_one_creation_pass(transactional_db, tenant):
    """Two bot creations at the limit at once: the tenant row lock lets one through."""
    import threading

    from django.db import connection

    from bots.services import bot_create

    Tenant.objects.filter(pk=tenant.pk).update(quotas={"max_bots": 1})
    barrier = threading.Barrier(2)
    results: list[str] = []

    def create(name: str) -> None:
        try:
            barrier.wait()
            bot_create(tenant=tenant, data={"name": name})
            results.append("created")
        except Exception as exc:  # recorded for the assertion
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["QuotaExceeded", "created"]
    assert Bot.objects.for_tenant(tenant).count() == 1


def test_admin_add_key_form_shows_the_quota_sentence(superuser, tenant):
    Tenant.objects.filter(pk=tenant.pk).update(quotas={"max_api_keys": 0})
    data = {"tenant": str(tenant.pk), "name": "admin key", "permissions": ["read"]}
    res = superuser.post("/admin/apikeys/apikey/add/", data)
    assert res.status_code == 200  # the form again, not a 500
    errors = res.context["adminform"].form.non_field_errors()
    assert "quota of 0 active API keys (quotas.max_api_keys)" in errors[0]
    assert not APIKey.objects.exists()


def test_quotas_stored_before_validation_do_not_block_other_changes(api, tenant):
    """Guard (passes on the old code too): a tenant whose stored quotas predate the validation
    can still PATCH its name, and the values that are not valid limits limit nothing."""
    Tenant.objects.filter(pk=tenant.pk).update(quotas={"messages_per_day": 5, "max_bots": -5})
    res = api.patch("/v1/tenant", {"name": "Acme 2"}, format="json")
    assert res.status_code == 200, res.content
    assert res.json()["quotas"] == {"messages_per_day": 5, "max_bots": -5}
    assert _bot(api, "still allowed").status_code == 201


@pytest.mark.parametrize(
    ("path", "quota", "sentence"),
    [
        ("/admin/bots/bot/add/", "max_bots", "quota of 1 bot (quotas.max_bots)"),
        ("/admin/datasets/dataset/add/", "max_datasets", "1 dataset (quotas.max_datasets)"),
    ],
)
def test_admin_add_forms_obey_the_count_quotas(superuser, tenant, path, quota, sentence):
    """Bots and datasets added in the admin count against the quotas as the API's do (they
    did not go through the services, so nothing checked)."""
    from bots.models import Bot
    from bots.tests.factories import BotFactory
    from datasets.models import Dataset
    from datasets.tests.factories import DatasetFactory

    model = Bot if quota == "max_bots" else Dataset
    (BotFactory if quota == "max_bots" else DatasetFactory)(tenant=tenant)
    Tenant.objects.filter(pk=tenant.pk).update(quotas={quota: 1})
    res = superuser.post(path, {"tenant": str(tenant.pk), "name": "one more", "slug": "one-more"})
    assert res.status_code == 200  # the form again
    assert sentence in " ".join(res.context["adminform"].form.non_field_errors())
    assert model.objects.filter(tenant=tenant).count() == 1


def test_admin_add_holds_the_quota_until_it_saves(transactional_db, superuser, tenant, monkeypatch):
    """A bot created elsewhere while the admin's add form is between its check and its save
    waits for the admin's transaction and is then refused; the admin's add succeeds (it was a
    500: save_model's re-check raised once the other creation had filled the quota)."""
    import threading
    import time

    from django.db import connection

    from bots.admin import BotAdmin
    from bots.services import bot_create

    Tenant.objects.filter(pk=tenant.pk).update(quotas={"max_bots": 1})
    outcome: list[str] = []

    def other_creation() -> None:
        try:
            bot_create(tenant=tenant, data={"name": "elsewhere"})
            outcome.append("created")
        except Exception as exc:  # recorded for the assertion
            outcome.append(type(exc).__name__)
        finally:
            connection.close()

    original = BotAdmin.save_model

    def save_model(self, request, obj, form, change):
        thread = threading.Thread(target=other_creation)
        thread.start()
        time.sleep(0.5)  # long enough for the other creation to pass an unlocked quota
        original(self, request, obj, form, change)
        save_model.thread = thread

    monkeypatch.setattr(BotAdmin, "save_model", save_model)
    new = Bot(tenant=tenant, name="admin bot", slug="admin-bot")
    data = {
        "tenant": str(tenant.pk), "name": new.name, "slug": new.slug,
        "system_prompt": new.system_prompt, "model": new.model, "temperature": new.temperature,
        "max_tokens": new.max_tokens, "top_k": new.top_k, "score_threshold": new.score_threshold,
        "retrieval_mode": new.retrieval_mode, "is_active": "on",
    }  # fmt: skip
    res = superuser.post("/admin/bots/bot/add/", data)
    save_model.thread.join(10)
    assert res.status_code == 302, res.content[:500]
    assert outcome == ["QuotaExceeded"]
    assert list(Bot.objects.filter(tenant=tenant).values_list("name", flat=True)) == ["admin bot"]
