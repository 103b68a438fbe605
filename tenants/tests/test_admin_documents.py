"""Documents in the admin: only title, tags and metadata change, and changed tags reach the
chunks; documents are not added there, and chunks are only viewed.

Repro (ops review): a tag changed in the admin stayed on the chunks as it was, and scopes filter
the chunks' tags, so a scope limited to "public" kept answering from a document moved to
"internal". An admin-added document was never ingested, had an empty content_hash (a second one
was a 500, IntegrityError) and skipped max_documents / max_storage_mb; its stored file, size and
status could be edited over what ingestion wrote (the replaced file stayed on disk). A chunk's
text edited there kept the embedding of its old text.
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from datasets.models import Chunk, Document
from datasets.tests.factories import DatasetFactory, DocumentFactory
from tenants.tests.admin_support import admin_url, as_posted

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(tenant, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    dataset = DatasetFactory(tenant=tenant)
    stored = default_storage.save("documents/a.txt", ContentFile(b"some text"))
    doc = DocumentFactory(
        dataset=dataset, file=stored, tags=["public"], status="ready", size_bytes=9, chunk_count=1
    )
    Chunk.objects.create(
        tenant=tenant, document=doc, dataset=dataset, index=0, text="some text", tags=["public"]
    )
    return doc


def test_changed_tags_reach_the_chunks(staff, document):
    form = staff.get(admin_url(document)).context["adminform"].form
    res = staff.post(admin_url(document), as_posted(form, tags="internal,faq"))
    assert res.status_code == 302
    document.refresh_from_db()
    assert document.tags == ["internal", "faq"]
    assert list(Chunk.objects.values_list("tags", flat=True)) == [["internal", "faq"]]


def test_only_title_tags_and_metadata_can_change(staff, document):
    form = staff.get(admin_url(document)).context["adminform"].form
    assert set(form.fields) == {"title", "tags", "metadata"}
    res = staff.post(
        admin_url(document),
        as_posted(form, title="Renamed", size_bytes="0", status="queued", chunk_count="0"),
    )
    assert res.status_code == 302
    document.refresh_from_db()
    assert (document.title, document.size_bytes, document.status) == ("Renamed", 9, "ready")
    assert document.chunk_count == 1
    assert Chunk.objects.get().tags == ["public"]  # tags unchanged: the chunks were left alone


def test_documents_are_not_added_in_the_admin(staff, superuser, tenant):
    for client in (staff, superuser):
        assert client.get("/admin/datasets/document/add/").status_code == 403
        res = client.post("/admin/datasets/document/add/", {"tenant": str(tenant.pk)})
        assert res.status_code == 403
    assert not Document.objects.exists()


def test_chunks_are_only_viewed(staff, document):
    chunk = Chunk.objects.get()
    page = staff.get(admin_url(chunk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    res = staff.post(admin_url(chunk), {"text": "changed", "index": 0, "token_count": 1})
    assert res.status_code == 403
    assert staff.get("/admin/datasets/chunk/add/").status_code == 403
    chunk.refresh_from_db()
    assert chunk.text == "some text"


def test_a_datasets_embedding_model_is_recorded_on_add_and_never_edited(superuser, tenant):
    """An admin-added dataset recorded no embedding model (the API records the configured
    one), and the field was editable: set to the configured name, stale vectors were hidden
    from `reembed` and the datasets.W001 check."""
    from datasets.embeddings import configured_model_name
    from datasets.models import Dataset

    form = superuser.get("/admin/datasets/dataset/add/").context["adminform"].form
    assert not {"embedding_model", "embedding_dimensions"} & set(form.fields)
    res = superuser.post(
        "/admin/datasets/dataset/add/",
        as_posted(form, tenant=str(tenant.pk), name="Manuals", embedding_model="other"),
    )
    assert res.status_code == 302
    dataset = Dataset.objects.get(name="Manuals")
    assert dataset.embedding_model == configured_model_name()
    Dataset.objects.filter(pk=dataset.pk).update(embedding_model="old-model")
    form = superuser.get(admin_url(dataset)).context["adminform"].form
    res = superuser.post(admin_url(dataset), as_posted(form, embedding_model="new-model"))
    assert res.status_code == 302
    dataset.refresh_from_db()
    assert dataset.embedding_model == "old-model"
