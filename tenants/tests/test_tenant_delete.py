"""Deleting a tenant (``manage.py delete_tenant``, the admin) removes its stored files too: a
bare cascade of rows left every uploaded document on disk."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from bots.tests.factories import BotFactory
from datasets.document_services import document_create_from_path
from datasets.models import Document
from datasets.tests.factories import DatasetFactory
from tenants.models import Membership, Tenant
from tenants.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _stored_document(tenant, tmp_path, name: str) -> Document:
    source = tmp_path / f"{name}.md"
    source.write_text(f"# {name}\n\nSome text of {name}.\n")
    dataset = DatasetFactory(tenant=tenant)
    doc, _ = document_create_from_path(tenant=tenant, dataset=dataset, path=source, enqueue=False)
    assert doc.file.name
    assert default_storage.exists(doc.file.name)
    return doc


def test_delete_tenant_removes_rows_files_and_sole_users(
    tenant, other_tenant, tmp_path, django_capture_on_commit_callbacks
):
    ours, theirs = (
        _stored_document(tenant, tmp_path, "ours"),
        _stored_document(other_tenant, tmp_path, "theirs"),
    )
    BotFactory(tenant=tenant)
    only_ours = MembershipFactory(tenant=tenant, user=UserFactory(username="solo")).user
    shared = UserFactory(username="shared")
    MembershipFactory(tenant=tenant, user=shared)
    MembershipFactory(tenant=other_tenant, user=shared)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    MembershipFactory(tenant=tenant, user=root)

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("delete_tenant", "acme", "--yes", "--with-users", stdout=out)
    text = out.getvalue()
    assert "1 bot, 1 dataset, 1 document (" in text  # (read "1 bots, 1 datasets")
    assert "1 stored file," in text
    assert "0 conversations (0 messages)" in text
    assert "1 user belongs to no other tenant (deleted too" in text
    assert "Deleted tenant acme" in text

    assert not Tenant.objects.filter(slug="acme").exists()
    assert not Document.objects.filter(pk=ours.pk).exists()
    assert not default_storage.exists(ours.file.name)
    assert default_storage.exists(theirs.file.name)  # another tenant's file stays
    assert Document.objects.filter(pk=theirs.pk).exists()
    user_model = type(shared)
    assert not user_model.objects.filter(pk=only_ours.pk).exists()
    assert user_model.objects.filter(pk=shared.pk).exists()
    assert user_model.objects.filter(pk=root.pk).exists()  # superusers never go
    assert Membership.objects.filter(user=shared, tenant=other_tenant).exists()


def test_delete_tenant_needs_confirmation_and_a_known_slug(tenant, tmp_path):
    doc = _stored_document(tenant, tmp_path, "kept")
    with pytest.raises(CommandError, match="confirm with --yes"):
        call_command("delete_tenant", "acme", stdout=io.StringIO())
    with pytest.raises(CommandError, match=r"No tenant 'acm'\. Tenants: acme"):
        call_command("delete_tenant", "acm", "--yes", stdout=io.StringIO())
    assert Tenant.objects.filter(slug="acme").exists()
    assert default_storage.exists(doc.file.name)


def test_admin_delete_removes_the_files_too(
    superuser, tenant, tmp_path, django_capture_on_commit_callbacks
):
    doc = _stored_document(tenant, tmp_path, "admin")
    with django_capture_on_commit_callbacks(execute=True):
        res = superuser.post(f"/admin/tenants/tenant/{tenant.pk}/delete/", {"post": "yes"})
    assert res.status_code == 302, res.content[:300]
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert not default_storage.exists(doc.file.name)


@pytest.mark.django_db(transaction=True)  # (the cache is forgotten once the delete commits)
def test_delete_tenant_forgets_its_cached_question_embeddings(tenant, other_tenant):
    """They were kept for up to a week after the tenant (question hashes and vectors)."""
    from chatbot_project.redis_client import get_redis
    from datasets.embeddings import get_embedder
    from datasets.query_embeddings import _key
    from tenants.services import tenant_delete

    embedder, redis = get_embedder(), get_redis()
    mine = [_key(embedder, f"question {i}", tenant.id) for i in range(3)]
    theirs = _key(embedder, "question 0", other_tenant.id)
    for key in (*mine, theirs):
        redis.set(key, b"\x00" * 8, ex=60)
    tenant_delete(tenant=tenant)
    assert redis.exists(*mine) == 0
    assert redis.exists(theirs) == 1
