"""factory_boy factories for datasets, documents and chunks (used by other apps' tests too)."""

from __future__ import annotations

import hashlib

import factory

from datasets.models import Chunk, Dataset, Document
from tenants.tests.factories import TenantFactory


def _embed(text: str) -> list[float]:
    from datasets.embeddings import get_embedder

    return get_embedder().embed_documents([text])[0]


def _configured_model() -> str:
    from datasets.embeddings import configured_model_name

    return configured_model_name()  # local-minilm-l6-v2, "-int8" when chunks are in int8


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Dataset {n}")
    embedding_model = factory.LazyFunction(_configured_model)
    embedding_dimensions = 384


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    tenant = factory.LazyAttribute(lambda o: o.dataset.tenant)
    dataset = factory.SubFactory(DatasetFactory)
    title = factory.Sequence(lambda n: f"Document {n}")
    source_type = Document.Source.TEXT
    mime_type = "text/plain"
    status = Document.Status.READY
    progress = 1.0
    content_hash = factory.Sequence(lambda n: hashlib.sha256(f"document-{n}".encode()).hexdigest())
    embedding_model = factory.LazyAttribute(lambda o: o.dataset.embedding_model)


class ChunkFactory(factory.django.DjangoModelFactory):
    """A chunk; pass ``embedding=`` (384 floats) or ``embed=True`` to embed ``text`` for real."""

    class Meta:
        model = Chunk

    class Params:
        embed = False

    document = factory.SubFactory(DocumentFactory)
    tenant = factory.LazyAttribute(lambda o: o.document.tenant)
    dataset = factory.LazyAttribute(lambda o: o.document.dataset)
    index = factory.Sequence(lambda n: n)
    text = factory.Faker("paragraph")
    token_count = factory.LazyAttribute(lambda o: len(o.text.split()))
    tags = factory.LazyAttribute(lambda o: list(o.document.tags))
    language = factory.LazyAttribute(lambda o: o.dataset.language)  # as ingestion writes it
    metadata = factory.LazyFunction(dict)
    embedding = factory.LazyAttribute(lambda o: _embed(o.text) if o.embed else None)
