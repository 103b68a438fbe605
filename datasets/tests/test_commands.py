"""Management commands: seed_demo (idempotent), ingest, reembed."""

from __future__ import annotations

import io
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from apikeys.authentication import context_for_key
from apikeys.models import APIKey
from bots.models import Bot
from datasets.embeddings import configured_model_name
from datasets.models import Chunk, Dataset, Document
from datasets.tests.factories import ChunkFactory, DatasetFactory, DocumentFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_saves_a_working_key(tmp_path, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-123")
    key_file = tmp_path / "data" / "demo_api_key"
    call_command("seed_demo", key_file=key_file, stdout=io.StringIO())
    dataset = Dataset.objects.get(tenant__slug="demo", name="Product docs")
    docs = list(Document.objects.filter(dataset=dataset))
    assert len(docs) >= 4
    assert all(d.status == "ready" for d in docs)
    assert {d.original_filename for d in docs} >= {"README.md", "running.md", "widget.md"}
    bot = Bot.objects.get(tenant__slug="demo", slug="demo")
    assert list(bot.datasets.all()) == [dataset]
    assert bot.retrieval_mode == "hybrid"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    raw = key_file.read_text().strip()
    ctx = context_for_key(raw)
    assert ctx is not None
    assert ctx.tenant.slug == "demo"
    assert ctx.permissions == {"chat", "read"}
    chunks = Chunk.objects.filter(dataset=dataset).count()

    out = io.StringIO()
    call_command("seed_demo", key_file=key_file, stdout=out)
    assert key_file.read_text().strip() == raw
    assert Document.objects.filter(dataset=dataset).count() == len(docs)
    assert Chunk.objects.filter(dataset=dataset).count() == chunks
    assert APIKey.objects.filter(tenant__slug="demo").count() == 2  # demo key + widget key
    widget = context_for_key((key_file.parent / "demo_widget_key").read_text().strip())
    assert widget is not None
    assert widget.permissions == {"chat"}
    assert widget.allowed_bot_ids == {bot.id}
    assert "http://127.0.0.1:8000" in widget.allowed_origins

    key_file.unlink()
    call_command("seed_demo", key_file=key_file, stdout=io.StringIO())
    assert context_for_key(key_file.read_text().strip()) is not None
    assert context_for_key(raw) is None  # the lost key was revoked


def test_ingest_command_sync_folder_and_refusals(tenant, corpus, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# A\n\nAlpha text about the widget.")
    (folder / "sub" / "b.txt").write_text("Beta text.")
    (folder / ".hidden").write_text("skip me")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 refused, 0 failed"):
        call_command(
            "ingest", str(folder), tenant="acme", dataset="Inbox", sync=True, tags="x",
            stdout=out, stderr=err,
        )  # fmt: skip
    assert "refused" in err.getvalue()
    assert "image.png" in err.getvalue()
    docs = Document.objects.filter(dataset__name="Inbox", tenant=tenant)
    assert sorted(d.original_filename for d in docs) == ["a.md", "b.txt"]
    assert all(d.status == "ready" and d.tags == ["x"] for d in docs)
    # Again: nothing new, nothing duplicated.
    call_command(
        "ingest", str(folder / "a.md"), tenant="acme", dataset="Inbox", sync=True, stdout=out
    )
    assert docs.count() == 2
    with pytest.raises(CommandError):
        call_command("ingest", str(tmp_path / "missing"), tenant="acme", dataset="Inbox")
    with pytest.raises(CommandError):
        call_command("ingest", str(folder), tenant="nope", dataset="Inbox")


def test_reembed_replaces_vectors_of_stale_datasets(tenant):
    stale = DatasetFactory(tenant=tenant, name="Old", embedding_model="text-embedding-3-small")
    doc = DocumentFactory(dataset=stale, embedding_model="text-embedding-3-small")
    chunk = ChunkFactory(
        document=doc, text="Serializers turn models into JSON.", embedding=[0.0] * 384
    )
    fresh = DatasetFactory(tenant=tenant, name="New")
    out = io.StringIO()
    call_command("reembed", stdout=out, stderr=io.StringIO())
    assert "Old: 1 chunks re-embedded" in out.getvalue()
    assert "New" not in out.getvalue()
    chunk.refresh_from_db()
    stale.refresh_from_db()
    doc.refresh_from_db()
    assert abs(sum(v * v for v in chunk.embedding) - 1.0) < 1e-4
    assert stale.embedding_model == doc.embedding_model == configured_model_name()
    out = io.StringIO()
    call_command("reembed", stdout=out)
    assert "already embedded" in out.getvalue()
    assert fresh.embedding_model == configured_model_name()


def test_reembed_includes_documents_serving_their_previous_version(tenant):
    """A document being re-ingested still answers from its previous chunks (retrieval.READABLE):
    they are re-embedded too. A first ingestion (no chunks yet) is left to its worker."""
    stale = DatasetFactory(tenant=tenant, name="Old", embedding_model="text-embedding-3-small")
    serving = []
    for status in (Document.Status.QUEUED, Document.Status.PROCESSING):
        doc = DocumentFactory(dataset=stale, status=status, progress=0.0, chunk_count=1)
        ChunkFactory(document=doc, text=f"Routers are {status}.", embedding=[0.0] * 384)
        serving.append(doc)
    first = DocumentFactory(dataset=stale, status=Document.Status.QUEUED, progress=0.0)
    out = io.StringIO()
    call_command("reembed", stdout=out, stderr=io.StringIO())
    assert "Old: 2 chunks re-embedded" in out.getvalue()
    for doc in serving:
        status = doc.status
        doc.refresh_from_db()
        assert doc.status == status
        assert doc.embedding_model == configured_model_name()
        chunk = doc.chunks.get()
        assert abs(sum(v * v for v in chunk.embedding) - 1.0) < 1e-4
    first.refresh_from_db()
    assert first.embedding_model == "text-embedding-3-small"


def test_reembed_keeps_a_new_version_that_lands_while_it_embeds(tenant, monkeypatch):
    """A re-ingest replacing the chunks between their read and the vectors' write: its chunks
    and embedding_model stay as its ingestion wrote them, the old chunks stay gone."""
    from datasets.embeddings import get_embedder
    from datasets.management.commands import reembed

    stale = DatasetFactory(tenant=tenant, name="Old", embedding_model="text-embedding-3-small")
    doc = DocumentFactory(dataset=stale, chunk_count=2)
    old = [ChunkFactory(document=doc, text=t, embedding=[0.0] * 384) for t in ("One.", "Two.")]
    landed = [0.0] * 384
    landed[0] = 1.0
    real = get_embedder()
    new_ids = []

    class Racing:
        model_name, dimensions = real.model_name, real.dimensions

        def embed_documents(self, texts):
            if not new_ids:  # the re-ingest's transaction (ingestion._process) commits now
                with transaction.atomic():
                    Document.objects.select_for_update().get(pk=doc.pk)
                    Chunk.objects.filter(document=doc).delete()
                    new_ids.append(ChunkFactory(document=doc, text="New.", embedding=landed).id)
                    Document.objects.filter(pk=doc.pk).update(
                        status=Document.Status.READY, chunk_count=1, embedding_model="reingest"
                    )
            return real.embed_documents(texts)

    monkeypatch.setattr(reembed, "get_embedder", Racing)
    out = io.StringIO()
    call_command("reembed", stdout=out, stderr=io.StringIO())
    doc.refresh_from_db()
    assert list(doc.chunks.values_list("id", flat=True)) == new_ids
    assert list(doc.chunks.get().embedding) == landed
    assert not Chunk.objects.filter(id__in=[c.id for c in old]).exists()
    assert doc.embedding_model == "reingest"
    assert "Old: 0 chunks re-embedded. 1 document(s) skipped" in out.getvalue()


def test_reembed_says_in_one_sentence_that_the_provider_failed(tenant, monkeypatch):
    """Repro (ops review): with the embedding provider down, reembed ended in a traceback
    (EmbeddingError from datasets/embedders/openai.py)."""
    from datasets.embeddings import EmbeddingError, get_embedder
    from datasets.management.commands import reembed

    stale = DatasetFactory(tenant=tenant, name="Old", embedding_model="text-embedding-3-small")
    ChunkFactory(document=DocumentFactory(dataset=stale), text="One.", embedding=[0.0] * 384)
    real = get_embedder()

    class Down:
        model_name, dimensions = real.model_name, real.dimensions

        def embed_documents(self, texts):
            raise EmbeddingError("The embedding provider could not be reached (ConnectError).")

    monkeypatch.setattr(reembed, "get_embedder", Down)
    with pytest.raises(CommandError, match=r"Old: stopped after 0 of 1 chunks: The embedding"):
        call_command("reembed", stdout=io.StringIO(), stderr=io.StringIO())
    stale.refresh_from_db()
    assert stale.embedding_model == "text-embedding-3-small"  # still to do
