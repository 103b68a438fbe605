"""The datasets.W001/I001 check (documents embedded with another model) runs where it matters.

Repro (operator notes): it was a plain system check, so every manage.py command that runs
Django's checks (ingest, chat, create_user, reingest, check...) read every document's
embedding_model first. Now it runs with the database checks (migrate, which make run and the
compose file run at start; check --database default) and with check --deploy, and keeps its
warning there.
"""

from __future__ import annotations

import io

import pytest
from django.core.checks import registry
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasets.models import Dataset
from datasets.tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale(tenant):
    dataset = DatasetFactory(tenant=tenant, name="Old")
    Dataset.objects.filter(pk=dataset.pk).update(embedding_model="text-embedding-ada-002")
    return dataset


def _ids(**kwargs) -> list[str]:
    return [m.id for m in registry.run_checks(**kwargs) if m.id.startswith("datasets.")]


def test_a_plain_command_s_checks_read_no_documents(stale):
    with CaptureQueriesContext(connection) as queries:
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    read = [q["sql"] for q in queries if "datasets_" in q["sql"]]
    assert read == []
    assert _ids() == []


def test_the_warning_stays_where_it_matters(stale):
    assert _ids(databases=["default"]) == ["datasets.W001"]  # migrate, check --database
    assert _ids(include_deployment_checks=True) == ["datasets.W001"]  # check --deploy
    both = _ids(include_deployment_checks=True, databases=["default"])
    assert both == ["datasets.W001"]  # once


def test_check_database_prints_it(stale):
    err = io.StringIO()
    call_command("check", databases=["default"], stdout=io.StringIO(), stderr=err)
    assert "datasets.W001" in err.getvalue()
    assert "'Old' (text-embedding-ada-002)" in err.getvalue()
