"""manage.py create_scope: a scope as POST /v1/scopes makes it, datasets by name."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bots.models import Scope
from datasets.tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def _create(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_scope", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_creates_the_scope_and_prints_its_slug(tenant):
    DatasetFactory(tenant=tenant, name="Handbook")
    out, err = _create(
        "--tenant", "acme", "--name", "Public site", "--datasets", "Handbook",
        "--tags", "public, faq", "--blocked-topics", "salaries,lawsuits",
        "--blocked-terms", "password", "--redact-terms", "internal",
        "--refusal-message", "Not here.", "--require-grounding", "--max-input-chars", "500",
    )  # fmt: skip
    assert out.strip().splitlines()[-1] == "public-site"
    scope = Scope.objects.get(tenant=tenant, slug="public-site")
    assert [d.name for d in scope.datasets.all()] == ["Handbook"]
    assert scope.limited_to_datasets
    assert list(scope.document_tags) == ["public", "faq"]
    assert list(scope.blocked_topics) == ["salaries", "lawsuits"]
    assert (list(scope.blocked_terms), list(scope.redact_terms)) == (["password"], ["internal"])
    assert (scope.refusal_message, scope.require_grounding, scope.max_input_chars) == (
        "Not here.", True, 500,
    )  # fmt: skip
    assert "reads only 'Handbook', documents tagged public, faq; 2 blocked topics" in err
    assert "create_bot --scope public-site" in err


def test_without_datasets_it_reads_the_bots(tenant):
    _out, err = _create("--tenant", "acme", "--name", "Open")
    scope = Scope.objects.get(tenant=tenant, slug="open")
    assert not scope.limited_to_datasets
    assert "reads any of its bot's datasets" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tags", ""], "--tags is empty"),
        (["--max-input-chars", "0"], "--max-input-chars: Ensure this value is greater than"),
        (["--refusal-message", "x" * 1001], "--refusal-message: Ensure this field has no more"),
        (["--datasets", "Nope"], "No dataset 'Nope' in tenant 'acme'"),
        (["--slug", "Bad Slug"], "--slug: "),
    ],
)
def test_refuses_what_the_api_refuses(tenant, args, message):
    with pytest.raises(CommandError, match=message):
        _create("--tenant", "acme", "--name", "S", *args)
    assert not Scope.objects.exists()


def test_taken_slug_and_another_tenants_dataset(tenant, other_tenant):
    _create("--tenant", "acme", "--name", "Public")
    with pytest.raises(CommandError, match="A scope with the slug 'public' already exists"):
        _create("--tenant", "acme", "--name", "Public")
    theirs = DatasetFactory(tenant=other_tenant, name="Secret")
    with pytest.raises(CommandError, match=f"No dataset '{theirs.id}' in tenant 'acme'"):
        _create("--tenant", "acme", "--name", "Other", "--datasets", str(theirs.id))
