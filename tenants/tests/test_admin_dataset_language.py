"""A dataset's text search `language` in the admin: a choice of the server's configurations, and
a change re-derives the chunks already in the dataset (as PATCH /v1/datasets does)."""

from __future__ import annotations

import pytest
from django.contrib.postgres.search import SearchQuery

from datasets.models import Chunk
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory
from tenants.tests.admin_support import admin_url, as_posted

pytestmark = pytest.mark.django_db

TEXT = "Die Fläche eines Dreiecks ist die halbe Grundseite mal der Höhe."


def test_the_admin_offers_the_servers_configurations_and_relanguages_chunks(staff, tenant):
    dataset = DatasetFactory(tenant=tenant)
    chunk = ChunkFactory(document=DocumentFactory(dataset=dataset), text=TEXT)
    form = staff.get(admin_url(dataset)).context["adminform"].form
    choices = {value for value, _ in form.fields["language"].choices}
    assert {"english", "german", "simple"} <= choices
    assert "klingon" not in choices
    res = staff.post(admin_url(dataset), as_posted(form, language="klingon"))
    assert res.status_code == 200  # the form again, with the error
    dataset.refresh_from_db()
    assert dataset.language == "english"
    res = staff.post(admin_url(dataset), as_posted(form, language="german"))
    assert res.status_code == 302
    dataset.refresh_from_db()
    assert dataset.language == "german"
    chunk.refresh_from_db()
    assert chunk.language == "german"
    flaechen = SearchQuery("Flächen", config="german")
    assert Chunk.objects.filter(pk=chunk.pk, search_vector=flaechen).exists()
