"""The admin's change form of a dataset whose text search configuration was dropped on the
server. Before, its language field listed only the server's configurations, so the form
answered "Select a valid choice" and nothing else of the dataset could be saved there (a PATCH
of its other fields works: test_language_dropped.py)."""

from __future__ import annotations

import pytest
from django.db import connection

from datasets.models import Dataset
from datasets.text_search import available_languages
from tenants.tests.admin_support import admin_url, as_posted

pytestmark = pytest.mark.django_db

CONFIG = "public.lead_admin_dropped"


@pytest.fixture
def dataset(tenant):
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = pg_catalog.english)")
    available_languages(fresh=True)
    dataset = Dataset.objects.create(tenant=tenant, name="Handbuch", language=CONFIG)
    with connection.cursor() as cur:
        cur.execute(f"DROP TEXT SEARCH CONFIGURATION {CONFIG}")
    available_languages(fresh=True)
    return dataset


def test_its_other_fields_can_still_be_saved(superuser, dataset):
    page = superuser.get(admin_url(dataset))
    assert "missing on the server" in page.content.decode()
    form = page.context["adminform"].form
    res = superuser.post(admin_url(dataset), as_posted(form, name="Handbuch 2"))
    assert res.status_code == 302, res.context["adminform"].form.errors
    dataset.refresh_from_db()
    assert (dataset.name, dataset.language) == ("Handbuch 2", CONFIG)


def test_it_can_be_moved_to_a_configuration_the_server_has(superuser, dataset):
    form = superuser.get(admin_url(dataset)).context["adminform"].form
    res = superuser.post(admin_url(dataset), as_posted(form, language="german"))
    assert res.status_code == 302
    dataset.refresh_from_db()
    assert dataset.language == "german"


def test_another_dataset_is_not_offered_the_missing_one(superuser, dataset, tenant):
    other = Dataset.objects.create(tenant=tenant, name="Other")
    form = superuser.get(admin_url(other)).context["adminform"].form
    assert CONFIG not in {value for value, _ in form.fields["language"].choices}
