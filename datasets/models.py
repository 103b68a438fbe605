from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from pgvector.django import HnswIndex, VectorField

from datasets.text_search import DEFAULT_LANGUAGE, ChunkTsvector
from tenants.models import TenantOwned

EMBEDDING_DIMENSIONS = 384  # the column's fixed width; settings.EMBEDDING_DIMENSIONS must match


class Dataset(TenantOwned):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    embedding_model = models.CharField(max_length=100, blank=True, default="")
    embedding_dimensions = models.PositiveIntegerField(default=EMBEDDING_DIMENSIONS)
    chunk_size = models.PositiveIntegerField(
        default=200, validators=[MinValueValidator(32), MaxValueValidator(2000)]
    )
    chunk_overlap = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(0), MaxValueValidator(500)]
    )
    # The PostgreSQL text search configuration of its chunks and of the questions' keyword
    # lexemes (datasets/text_search.py); checked against the server's on every write.
    language = models.CharField(max_length=63, default=DEFAULT_LANGUAGE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="dataset_unique_name")
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="dataset_tenant_created_idx")
        ]

    def __str__(self) -> str:
        return self.name


class Document(TenantOwned):
    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    class Source(models.TextChoices):
        FILE = "file"
        URL = "url"
        TEXT = "text"
        JSON = "json"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=500, blank=True, default="")
    source_type = models.CharField(max_length=10, choices=Source.choices)
    source_url = models.URLField(max_length=2000, blank=True, default="")
    original_filename = models.CharField(max_length=500, blank=True, default="")
    file = models.FileField(upload_to="documents/%Y/%m/", blank=True, max_length=500)
    mime_type = models.CharField(max_length=200, blank=True, default="")
    size_bytes = models.BigIntegerField(default=0)
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True, default="")
    chunk_count = models.PositiveIntegerField(default=0)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    embedding_model = models.CharField(max_length=100, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "dataset", "content_hash"], name="document_unique_content"
            ),
            models.CheckConstraint(
                condition=models.Q(progress__gte=0) & models.Q(progress__lte=1),
                name="document_progress_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "dataset", "-created_at"], name="doc_tenant_ds_idx"),
            models.Index(fields=["tenant", "status"], name="doc_tenant_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Chunk(TenantOwned):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()
    text = models.TextField()
    token_count = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    # Denormalised from the document so scope tag filters need no join.
    tags = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    # Its dataset's language (written by ingestion, changed with the dataset's).
    language = models.CharField(
        max_length=63, default=DEFAULT_LANGUAGE, db_default=DEFAULT_LANGUAGE, editable=False
    )
    search_vector = models.GeneratedField(
        expression=ChunkTsvector("language", "text"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "index"], name="chunk_unique_index")
        ]
        indexes = [
            models.Index(fields=["tenant", "dataset"], name="chunk_tenant_dataset_idx"),
            models.Index(fields=["tenant", "document", "index"], name="chunk_tenant_doc_idx"),
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="chunk_search_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.index}"
