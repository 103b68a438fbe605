"""The dataset `language` (beyond API.md) is documented: docs/api.md lists it under "Beyond
API.md" with its 400, the guide says a change applies to existing chunks (unlike chunk_size),
and the OpenAPI schema shows it on the dataset and its create/update body."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from chatbot_project.testing.schema_check import published_schema

DOCS = Path(settings.BASE_DIR) / "docs" / "api.md"


def _text() -> str:
    return " ".join(DOCS.read_text().split())


def test_docs_list_the_language_beyond_api_md():
    text = _text()
    beyond = text[text.index("## Beyond API.md") :]
    assert "**Dataset language.**" in beyond
    assert "400 `invalid_request`" in beyond[beyond.index("**Dataset language.**") :][:900]
    assert "applies to the chunks already in the dataset at once" in text
    assert "`manage.py ingest --language german`" in text


@pytest.mark.django_db
def test_the_schema_shows_the_language_on_datasets_and_their_bodies():
    schemas = published_schema()["components"]["schemas"]
    assert "language" in schemas["Dataset"]["properties"]
    for name in ("DatasetInputRequest", "PatchedDatasetInputRequest"):  # POST, PATCH
        body = schemas[name]["properties"]["language"]
        assert body["type"] == "string"
        assert "pg_ts_config" in body["description"]
