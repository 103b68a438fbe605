"""manage.py show_tenant: the operator's read-only overview, one tenant's objects only."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apikeys.models import APIKey
from bots.tests.factories import BotFactory, ScopeFactory
from datasets.tests.factories import DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db


def _show(*args: str) -> str:
    out = io.StringIO()
    call_command("show_tenant", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_lists_every_tenant_with_counts(tenant, other_tenant, make_key):
    DatasetFactory(tenant=tenant, name="Handbook")
    make_key(tenant)
    revoked = make_key(tenant)
    APIKey.objects.filter(prefix=revoked[:12]).update(revoked_at=timezone.now())
    other_tenant.is_active = False
    other_tenant.save()
    lines = _show().splitlines()
    assert lines[0] == "slug | name | state | datasets | documents | bots | keys | members"
    assert lines[1] == "acme | Acme | active | 1 | 0 | 0 | 1 | 0"
    assert lines[2] == "globex | Globex | suspended | 0 | 0 | 0 | 0 | 0"


def test_shows_one_tenant_and_nothing_of_another(tenant, other_tenant, make_key):
    handbook = DatasetFactory(tenant=tenant, name="Handbook")
    DocumentFactory(tenant=tenant, dataset=handbook, status="ready", chunk_count=7)
    DocumentFactory(
        tenant=tenant, dataset=handbook, status="failed", title="scan.pdf",
        error="The PDF has no text layer (a scan?).",
    )  # fmt: skip
    bot = BotFactory(tenant=tenant, slug="support", name="Support")
    bot.datasets.set([handbook])
    ScopeFactory(tenant=tenant, slug="public", document_tags=["public"])
    raw = make_key(tenant, permissions=("chat",), name="website", bots=[bot])
    key = APIKey.objects.get(prefix=raw[:12])
    key.expires_at = timezone.now() - timedelta(days=1)
    key.save()
    DatasetFactory(tenant=other_tenant, name="Globex secrets")
    BotFactory(tenant=other_tenant, slug="globex-bot")
    text = _show("acme")
    assert "Tenant acme (Acme), active" in text
    assert "Handbook (1 failed, 1 ready; 7 chunks)" in text
    assert "failed: scan.pdf: The PDF has no text layer (a scan?)." in text
    assert "support (Support): Handbook; " in text
    assert "public (" in text
    assert "tags public" in text
    assert f"{key.prefix}… 'website': chat; bots support; EXPIRED" in text
    assert "Quotas (used / limit):" in text
    assert "Globex" not in text
    assert "globex-bot" not in text


def test_unknown_tenant_names_the_known_ones(tenant):
    with pytest.raises(CommandError, match=r"No tenant 'nope' \(tenants: acme\)"):
        _show("nope")


def test_queries_do_not_grow_with_the_datasets(tenant):
    """Documents are counted per (dataset, status) in one query, not three per dataset."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            _show("acme")
        return len(seen)

    first = DatasetFactory(tenant=tenant, name="A")
    DocumentFactory(tenant=tenant, dataset=first, status="ready", chunk_count=3)
    one = queries()
    for name in ("B", "C", "D"):
        DocumentFactory(tenant=tenant, dataset=DatasetFactory(tenant=tenant, name=name))
    assert queries() == one
