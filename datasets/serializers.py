"""Shapes of datasets, documents and chunks on the wire (API.md)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from datasets.document_input import BLANK_TAG, PRINTABLE_ONLY, has_controls
from datasets.models import Chunk, Dataset, Document
from tenants.views import StrictSerializer


class DatasetSerializer(serializers.ModelSerializer):
    document_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Dataset
        fields = [
            "id", "name", "description", "embedding_model", "embedding_dimensions", "chunk_size",
            "chunk_overlap", "language", "document_count", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id",
            "embedding_model",
            "embedding_dimensions",
            "created_at",
            "updated_at",
        ]


class DatasetInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)

    def validate_name(self, value: str) -> str:
        if has_controls(value):
            raise serializers.ValidationError(PRINTABLE_ONLY)
        return value

    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    chunk_size = serializers.IntegerField(required=False, min_value=32, max_value=2000)
    chunk_overlap = serializers.IntegerField(required=False, min_value=0, max_value=500)
    language = serializers.CharField(
        required=False, max_length=63,
        help_text="PostgreSQL text search configuration of keyword search (stemming, stop "
        "words): `english` (default), `german`, `french`, `simple`...; one the server has "
        "(`SELECT cfgname FROM pg_ts_config`). A change applies to the chunks already in the "
        "dataset at once.",
    )  # fmt: skip


class DocumentSerializer(serializers.ModelSerializer):
    dataset = serializers.UUIDField(source="dataset_id", read_only=True)
    error = serializers.SerializerMethodField()
    # Empty for uploads and text: a plain string, not format "uri" ("" is not a URI).
    source_url = serializers.CharField(read_only=True)

    class Meta:
        model = Document
        fields = [
            "id", "dataset", "title", "source_type", "source_url", "original_filename", "mime_type",
            "size_bytes", "tags", "metadata", "status", "progress", "error", "chunk_count",
            "page_count", "content_hash", "embedding_model", "created_at", "updated_at",
            "processed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_error(self, obj: Document) -> str | None:
        return obj.error or None


def _printable(value: str) -> str:
    if has_controls(value):
        raise serializers.ValidationError(PRINTABLE_ONLY)
    return value


class _DocumentFields(StrictSerializer):
    # A document's tags and metadata as a JSON body sends them, and the checks of its title
    # (declared by each body: optional, or required with `text`/`json`). A comment, not a
    # docstring: drf-spectacular would publish it for every subclass.
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100, error_messages={"blank": BLANK_TAG}),
        required=False,
        max_length=50,
    )
    metadata = serializers.DictField(required=False)

    validate_title = staticmethod(_printable)

    def validate_tags(self, value: list[str]) -> list[str]:
        for tag in value:
            _printable(tag)
        return value


class DocumentJSONInputSerializer(_DocumentFields):
    """One of ``url``, ``text`` or ``json``, plus tags/metadata and a title (optional for a
    ``url``, required for ``text`` and ``json``, as API.md says)."""

    url = serializers.CharField(required=False, max_length=2000)
    text = serializers.CharField(required=False, trim_whitespace=False, allow_blank=True)
    json = serializers.JSONField(required=False)
    title = serializers.CharField(
        required=False, allow_blank=True, max_length=500,
        help_text="Required with `text` and `json`; with `url`, the page's title when left out.",
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("url", "text", "json") if k in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                "Send exactly one of `url`, `text` or `json` (or a multipart `file`)."
            )
        if given[0] != "url" and not attrs.get("title", "").strip():
            # API.md: `{"text", "title"}` / `{"json", "title"}`. A URL has its page's title and a
            # file its name; text sent inline has nothing to be cited by but this.
            raise serializers.ValidationError(
                {"title": f"A `{given[0]}` document needs a title: citations and lists name it."}
            )
        return attrs


class DocumentUpdateInputSerializer(_DocumentFields):
    """``PATCH /v1/documents/{id}``: any of ``title``, ``tags`` (replacing the list; scopes'
    tag filters follow at once) and ``metadata`` (replacing the object)."""

    title = serializers.CharField(
        required=False, max_length=500,
        help_text="Shown in citations at once; in the chunks' text after a re-ingest.",
    )  # fmt: skip


class DocumentReingestInputSerializer(StrictSerializer):
    """``POST /v1/documents/{id}/reingest``: an empty body, or ``{"refetch": true}`` to fetch a
    URL document's page again instead of re-reading the stored copy."""

    refetch = serializers.BooleanField(required=False, default=False)


class ChunkSerializer(serializers.ModelSerializer):
    document = serializers.UUIDField(source="document_id", read_only=True)

    class Meta:
        model = Chunk
        fields = [
            "id",
            "document",
            "index",
            "text",
            "token_count",
            "metadata",
            "tags",
            "created_at",
        ]
        read_only_fields = fields
