"""reembed --dataset takes the dataset's id too, as reingest --dataset does.

README's step by step gets the dataset's id from `GET /v1/datasets` (`DATASET=...`); given to
`reembed --dataset "$DATASET"` it said "No dataset named '<id>'", while `reingest --dataset` took
the same id."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db


def test_a_dataset_id_selects_that_dataset(tenant, other_tenant):
    handbook = DatasetFactory(tenant=tenant, name="Handbook")
    doc = DocumentFactory(dataset=handbook)
    ChunkFactory(document=doc, text="Parental leave is sixteen weeks.", embedding=[0.0] * 384)
    DatasetFactory(tenant=tenant, name="Other")
    out = io.StringIO()
    call_command("reembed", "--dataset", str(handbook.id).upper(), stdout=out, stderr=io.StringIO())
    assert out.getvalue().splitlines() == ["acme/Handbook: 1 chunks re-embedded."]
    # Another tenant's id within --tenant is no dataset, as a name would be.
    with pytest.raises(CommandError, match=r"No dataset '.+' \(name or id\) in tenant 'globex'"):
        call_command("reembed", "--tenant", "globex", "--dataset", str(handbook.id))
