"""An object's change page offers only its own tenant's objects to link; an add page refuses
another tenant's on save.

Repro (admin review): a superuser's change page of tenant A's bot listed every tenant's
datasets and scopes in its selects (an API key's page every tenant's bots and scopes, a scope's
page every dataset), and so did a staff user's page for each tenant they belong to: choosing
one was refused only when saving. The change page now lists the object's tenant's objects only
(raw-id lookups open filtered to it); the add page, where the tenant is chosen on the form,
refuses another tenant's objects with an error on the field, and saves nothing.
"""

from __future__ import annotations

import pytest

from apikeys.models import APIKey
from bots.models import Bot, Scope
from tenants.tests.admin_support import admin_url, as_posted, staff_client

pytestmark = pytest.mark.django_db

# (kind, field, kinds of acme's objects it may offer)
CHOICES = [
    ("bot", "datasets", "dataset"),
    ("bot", "default_scope", "scope"),
    ("scope", "datasets", "dataset"),
    ("apikey", "bots", "bot"),
    ("apikey", "scopes", "scope"),
]


def _offered(client, obj, field) -> list:
    res = client.get(admin_url(obj))
    assert res.status_code == 200
    return list(res.context["adminform"].form.fields[field].queryset)


@pytest.mark.parametrize(("kind", "field", "offered"), CHOICES)
def test_a_superusers_change_page_offers_only_the_objects_tenants_choices(
    superuser, acme, globex, kind, field, offered
):
    assert _offered(superuser, acme[kind], field) == [acme[offered]]
    page = superuser.get(admin_url(acme[kind])).content.decode()
    assert str(globex[offered].pk) not in page


@pytest.mark.parametrize(("kind", "field", "offered"), CHOICES)
def test_a_staff_member_of_two_tenants_sees_only_the_objects_tenants_choices(
    client, acme, globex, tenant, other_tenant, kind, field, offered
):
    both = staff_client(client, {tenant: "owner", other_tenant: "owner"}, username="both")
    assert _offered(both, acme[kind], field) == [acme[offered]]
    assert _offered(both, globex[kind], field) == [globex[offered]]


def test_raw_id_choices_and_lookups_are_of_the_objects_tenant(superuser, acme, globex, tenant):
    conversation = acme["conversation"]
    res = superuser.get(admin_url(conversation))
    form = res.context["adminform"].form
    assert list(form.fields["bot"].queryset) == [acme["bot"]]
    # The magnifier's popup opens the bots of the conversation's tenant.
    assert f"tenant__id__exact={tenant.pk}" in res.content.decode()
    popup = superuser.get(f"/admin/bots/bot/?_to_field=id&_popup=1&tenant__id__exact={tenant.pk}")
    assert [b.pk for b in popup.context["cl"].result_list] == [acme["bot"].pk]
    # Another tenant's bot typed in is refused on the field and not named beside the box.
    data = {
        "bot": str(globex["bot"].pk),
        "title": conversation.title,
        "user_identifier": "",
        "metadata": "{}",
        "message_count": "0",
    }
    res = superuser.post(admin_url(conversation), as_posted(form, **data))
    assert res.status_code == 200
    assert "bot" in res.context["adminform"].form.errors
    assert b"globex-bot" not in res.content
    conversation.refresh_from_db()
    assert conversation.bot_id == acme["bot"].pk


def test_a_superusers_add_pages_refuse_another_tenants_objects(superuser, acme, globex, tenant):
    theirs = globex
    posts = {
        "/admin/bots/bot/add/": (
            {
                "tenant": str(tenant.pk), "name": "Mixed", "slug": "mixed", "model": "",
                "temperature": "0.2", "max_tokens": "512", "top_k": "5",
                "score_threshold": "0", "retrieval_mode": "hybrid", "is_active": "on",
                "system_prompt": "", "datasets": [str(theirs["dataset"].pk)],
                "default_scope": str(theirs["scope"].pk),
            },
            {"datasets", "default_scope"},
        ),
        "/admin/bots/scope/add/": (
            {
                "tenant": str(tenant.pk), "slug": "mixed", "name": "Mixed",
                "datasets": [str(theirs["dataset"].pk), str(acme["dataset"].pk)],
            },
            {"datasets"},
        ),
        "/admin/apikeys/apikey/add/": (
            {
                "tenant": str(tenant.pk), "name": "mixed", "permissions": ["read"],
                "bots": [str(theirs["bot"].pk)], "scopes": [str(theirs["scope"].pk)],
            },
            {"bots", "scopes"},
        ),
    }  # fmt: skip
    for path, (data, fields) in posts.items():
        form = superuser.get(path).context["adminform"].form
        res = superuser.post(path, as_posted(form, **data))
        assert res.status_code == 200, (path, res.status_code)
        errors = res.context["adminform"].form.errors
        assert fields <= set(errors), (path, errors)
        assert "belong(s) to another tenant" in str(errors), errors
    assert not Bot.objects.filter(slug="mixed").exists()
    assert not Scope.objects.filter(slug="mixed").exists()
    assert not APIKey.objects.filter(name="mixed").exists()
    # Its own tenant's objects are taken.
    form = superuser.get("/admin/bots/scope/add/").context["adminform"].form
    res = superuser.post(
        "/admin/bots/scope/add/",
        as_posted(form, **{**posts["/admin/bots/scope/add/"][0],
                           "datasets": [str(acme["dataset"].pk)]}),
    )  # fmt: skip
    assert res.status_code == 302, res.context["adminform"].form.errors
    assert list(Scope.objects.get(slug="mixed").datasets.all()) == [acme["dataset"]]
