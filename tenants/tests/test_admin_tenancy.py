"""The Django admin keeps tenants apart: staff see and write only their tenants' rows.

Also: a reference to another tenant's object is refused even for a superuser, API keys added in
the admin are real (HMAC-hashed, shown once), and admin deletes remove the stored files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from apikeys import keys
from apikeys.models import APIKey
from bots.models import Bot
from bots.tests.factories import BotFactory, ScopeFactory
from datasets.models import Dataset, Document
from datasets.tests.factories import DatasetFactory, DocumentFactory
from tenants.tests.admin_support import KINDS, admin_url, as_posted, bot_form
from tenants.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", [*KINDS, "membership"])
def test_staff_changelist_lists_only_their_tenants_rows(staff, acme, globex, tenant, kind):
    res = staff.get(admin_url(acme[kind], "changelist"))
    assert res.status_code == 200
    rows = list(res.context["cl"].result_list)
    assert rows
    assert {row.tenant_id for row in rows} == {tenant.id}
    # Not in the rows, nor in the tenant filter.
    assert b"globex" not in res.content.lower()


def test_staff_tenant_changelist_lists_only_their_tenants(staff, acme, globex, tenant):
    res = staff.get("/admin/tenants/tenant/")
    assert [t.id for t in res.context["cl"].result_list] == [tenant.id]
    assert staff.get(f"/admin/tenants/tenant/{globex['bot'].tenant_id}/change/").status_code == 302


@pytest.mark.parametrize("kind", [*KINDS, "membership"])
def test_staff_gets_the_missing_object_answer_for_another_tenants_object(staff, acme, globex, kind):
    obj = globex[kind]
    for view in ("change", "delete", "history"):
        res = staff.get(admin_url(obj, view))
        # Django's answer for an id that does not exist: back to the index with a message.
        assert res.status_code == 302, (kind, view)
        assert res["Location"] == "/admin/"
    missing = staff.get(admin_url(obj, "change").replace(str(obj.pk), "1" * 8 + str(obj.pk)[8:]))
    assert missing.status_code == 302
    assert missing["Location"] == "/admin/"


def test_staff_cannot_change_another_tenants_bot(staff, acme, globex):
    bot = globex["bot"]
    res = staff.post(admin_url(bot), bot_form(bot, name="taken over"))
    assert res.status_code == 302
    assert res["Location"] == "/admin/"
    bot.refresh_from_db()
    assert bot.name != "taken over"


def test_staff_cannot_add_a_bot_to_another_tenant(staff, acme, globex, other_tenant):
    data = bot_form(globex["bot"], slug="intruder", datasets=[], default_scope="")
    res = staff.post("/admin/bots/bot/add/", data)
    assert res.status_code == 200
    assert "tenant" in res.context["adminform"].form.errors
    assert not Bot.objects.filter(slug="intruder").exists()


def test_staff_cannot_attach_another_tenants_dataset_to_their_bot(staff, acme, globex):
    bot = acme["bot"]
    data = bot_form(bot, datasets=[str(globex["dataset"].pk)], default_scope=globex["scope"].pk)
    res = staff.post(admin_url(bot), data)
    assert res.status_code == 200
    errors = res.context["adminform"].form.errors
    assert {"datasets", "default_scope"} <= set(errors)
    assert list(bot.datasets.all()) == [acme["dataset"]]


def test_staff_add_forms_offer_only_their_tenants_choices(staff, acme, globex, tenant):
    # (Conversations are not added in the admin: their change page's raw ids, as scoped.)
    conversation = admin_url(acme["conversation"])
    forms = {
        path: staff.get(path).context["adminform"].form
        for path in (
            "/admin/bots/bot/add/",
            "/admin/bots/scope/add/",
            "/admin/apikeys/apikey/add/",
            conversation,
        )
    }
    assert list(forms["/admin/bots/bot/add/"].fields["tenant"].queryset) == [tenant]
    expected = {
        ("/admin/bots/bot/add/", "datasets"): [acme["dataset"]],
        ("/admin/bots/bot/add/", "default_scope"): [acme["scope"]],
        ("/admin/bots/scope/add/", "datasets"): [acme["dataset"]],
        ("/admin/apikeys/apikey/add/", "bots"): [acme["bot"]],
        ("/admin/apikeys/apikey/add/", "scopes"): [acme["scope"]],
        (conversation, "bot"): [acme["bot"]],
        (conversation, "api_key"): [acme["apikey"]],
    }
    for (path, field), objects in expected.items():
        assert list(forms[path].fields[field].queryset) == objects, (path, field)


def test_staff_cannot_point_a_conversation_at_another_tenants_bot(staff, acme, globex):
    # Raw-id fields too: the id is checked against the user's tenants.
    conversation = acme["conversation"]
    form = staff.get(admin_url(conversation)).context["adminform"].form
    res = staff.post(admin_url(conversation), as_posted(form, bot=str(globex["bot"].pk)))
    assert res.status_code == 200
    assert "bot" in res.context["adminform"].form.errors
    conversation.refresh_from_db()
    assert conversation.bot_id == acme["bot"].pk


def test_a_refused_raw_id_does_not_name_another_tenants_object(staff, acme, globex, tenant):
    """Django named the object of a typed raw id beside the box, looked up among all rows,
    also when the form came back refusing it: user ids count up from 1, so posting the
    membership form with 1, 2, 3... listed every username of the instance."""
    from tenants.tests.factories import UserFactory

    root = UserFactory(username="root-operator", is_superuser=True, is_staff=True)
    outsider = globex["membership"].user
    for user in (root, outsider):
        res = staff.post(
            "/admin/tenants/membership/add/",
            {"user": str(user.pk), "tenant": str(tenant.pk), "role": "member"},
        )
        assert "user" in res.context["adminform"].form.errors
        assert user.username.encode() not in res.content  # was shown with a link to it
    conversation = acme["conversation"]
    form = staff.get(admin_url(conversation)).context["adminform"].form
    res = staff.post(admin_url(conversation), as_posted(form, bot=str(globex["bot"].pk)))
    assert "bot" in res.context["adminform"].form.errors
    assert admin_url(globex["bot"]).encode() not in res.content
    assert b"globex-bot" not in res.content
    # One of the user's own choices is still named (with a link to it).
    assert admin_url(acme["bot"]).encode() in staff.get(admin_url(conversation)).content


def test_superuser_sees_every_tenant_but_cannot_mix_them_on_a_bot(superuser, acme, globex):
    res = superuser.get("/admin/bots/bot/")
    assert {b.slug for b in res.context["cl"].result_list} == {"acme-bot", "globex-bot"}
    bot = globex["bot"]
    res = superuser.post(
        admin_url(bot), bot_form(bot, datasets=[str(acme["dataset"].pk)], default_scope="")
    )
    assert res.status_code == 200
    assert "datasets" in res.context["adminform"].form.errors
    # Not one of the choices (those of the bot's tenant only); on an add page, where the tenant
    # is chosen on the form, SameTenantForm says "belong(s) to another tenant"
    # (test_admin_tenant_choices).
    assert b"Select a valid choice" in res.content
    assert list(bot.datasets.all()) == [globex["dataset"]]

    res = superuser.post(admin_url(bot), bot_form(bot, default_scope=str(acme["scope"].pk)))
    assert res.status_code == 200
    assert "default_scope" in res.context["adminform"].form.errors
    bot.refresh_from_db()
    assert bot.default_scope_id == globex["scope"].pk


def _add_key(client, tenant, name, **extra):
    data = {"tenant": str(tenant.pk), "name": name, "permissions": ["read"], **extra}
    res = client.post("/admin/apikeys/apikey/add/", data, follow=True)
    assert res.status_code == 200, res.content[:1000]
    shown = [str(m) for m in res.context["messages"]]
    raw = next(
        match.group(0)
        for text in shown
        if (match := re.search(r"cb_[0-9A-Za-z]{49}", text)) and "Copy" in text
    )
    return raw


def test_admin_added_api_keys_are_hashed_shown_once_and_work(superuser, tenant, acme):
    first = _add_key(superuser, tenant, "admin key 1")
    second = _add_key(superuser, tenant, "admin key 2", bots=[str(acme["bot"].pk)])
    assert first != second
    for raw, name in ((first, "admin key 1"), (second, "admin key 2")):
        row = APIKey.objects.get(name=name)
        assert row.prefix == keys.public_prefix(raw)
        assert keys.matches(raw, row.key_hash)
        assert row.permissions == ["read"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert client.get("/v1/bots").status_code == 200
    assert list(APIKey.objects.get(name="admin key 2").bots.all()) == [acme["bot"]]
    # The key is nowhere on the change page.
    page = superuser.get(admin_url(APIKey.objects.get(name="admin key 1")))
    assert first.encode() not in page.content


def test_staff_adds_a_key_only_to_their_tenant(staff, tenant, acme, globex, other_tenant):
    raw = _add_key(staff, tenant, "staff key", scopes=[str(acme["scope"].pk)])
    assert APIKey.objects.get(name="staff key").tenant_id == tenant.pk
    assert keys.looks_valid(raw)
    res = staff.post(
        "/admin/apikeys/apikey/add/",
        {"tenant": str(other_tenant.pk), "name": "intruder", "permissions": ["read"]},
    )
    assert res.status_code == 200
    assert "tenant" in res.context["adminform"].form.errors
    assert not APIKey.objects.filter(name="intruder").exists()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def _stored_document(dataset, name: str) -> Document:
    stored = default_storage.save(f"documents/{name}", ContentFile(b"some text"))
    return DocumentFactory(dataset=dataset, file=stored, title=name)


def test_admin_bulk_delete_of_documents_removes_their_files(
    superuser, media, tenant, django_capture_on_commit_callbacks
):
    dataset = DatasetFactory(tenant=tenant)
    docs = [_stored_document(dataset, f"doc{i}.txt") for i in range(2)]
    paths = [media / d.file.name for d in docs]
    assert all(p.exists() for p in paths)
    with django_capture_on_commit_callbacks(execute=True):
        res = superuser.post(
            "/admin/datasets/document/",
            {"action": "delete_selected", "_selected_action": [d.pk for d in docs], "post": "yes"},
        )
    assert res.status_code == 302
    assert not Document.objects.filter(pk__in=[d.pk for d in docs]).exists()
    assert not any(p.exists() for p in paths)


def test_admin_delete_of_a_document_or_dataset_removes_the_files(
    superuser, media, tenant, django_capture_on_commit_callbacks
):
    dataset = DatasetFactory(tenant=tenant)
    lone, kept = (_stored_document(dataset, f"{n}.txt") for n in ("lone", "kept"))
    with django_capture_on_commit_callbacks(execute=True):
        res = superuser.post(admin_url(lone, "delete"), {"post": "yes"})
    assert res.status_code == 302
    assert not (media / lone.file.name).exists()
    assert (media / kept.file.name).exists()
    with django_capture_on_commit_callbacks(execute=True):
        res = superuser.post(admin_url(dataset, "delete"), {"post": "yes"})
    assert res.status_code == 302
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    assert not (media / kept.file.name).exists()


@pytest.mark.parametrize("kind", [*KINDS, "membership"])
def test_an_objects_tenant_is_fixed_once_it_exists(superuser, acme, kind):
    # Moving an object would leave its conversations, chunks or keys in the old tenant.
    res = superuser.get(admin_url(acme[kind]))
    assert res.status_code == 200
    assert "tenant" not in res.context["adminform"].form.fields
    assert b"acme" in res.content.lower()


@pytest.mark.parametrize(
    ("kind", "field", "taken"),
    [
        ("bot", "slug", lambda t: BotFactory(tenant=t, slug="taken").slug),
        ("scope", "slug", lambda t: ScopeFactory(tenant=t, slug="taken").slug),
        ("dataset", "name", lambda t: DatasetFactory(tenant=t, name="taken").name),
        ("membership", "user", lambda t: str(MembershipFactory(tenant=t).user_id)),
    ],
)
def test_a_value_taken_in_the_tenant_is_a_form_error(superuser, acme, tenant, kind, field, taken):
    """The tenant is read-only on the change page, and Django skipped the unique rules naming
    it: the change reached the database and was a 500 (IntegrityError)."""
    obj = acme[kind]
    value = taken(tenant)
    form = superuser.get(admin_url(obj)).context["adminform"].form
    res = superuser.post(admin_url(obj), as_posted(form, **{field: value}))
    assert res.status_code == 200  # the form again, with the error
    errors = res.context["adminform"].form.errors
    assert "already exists" in str(errors), errors
    stored = type(obj).objects.get(pk=obj.pk)
    assert str(getattr(stored, "user_id" if field == "user" else field)) != value  # unchanged
    # An unchanged value is no conflict with the object itself.
    res = superuser.post(admin_url(obj), as_posted(form))
    assert res.status_code == 302, res.context["adminform"].form.errors
