"""docs/api.md says what changing a dataset's chunk_size / chunk_overlap does: it applies to the
documents ingested afterwards, and those already in the dataset keep their chunks until they are
re-ingested (`manage.py reingest`, whose flags the docs name as the command takes them). It said
nothing, so a PATCH looked as if it re-chunked the dataset."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from django.conf import settings

from datasets.management.commands.reingest import Command

DOCS = Path(settings.BASE_DIR) / "docs" / "api.md"


def _text() -> str:
    return " ".join(DOCS.read_text().split())  # lines joined: a sentence may wrap anywhere


def test_the_docs_say_chunk_settings_apply_to_documents_ingested_afterwards():
    text = _text()
    assert "`chunk_size` and `chunk_overlap`" in text
    assert "`PATCH /v1/datasets/{id}`" in text
    assert "apply to the documents ingested from then on" in text
    assert "keep their chunks until re-ingested" in text


def test_the_reingest_command_the_docs_name_takes_those_flags():
    found = re.search(r"`manage\.py reingest ([^`]+)`", _text())
    assert found, "docs/api.md names no `manage.py reingest ...` command"
    args = shlex.split(found.group(1).replace("<slug>", "acme").replace("<name or id>", "Hb"))
    options = Command().create_parser("manage.py", "reingest").parse_args(args)
    assert (options.tenant, options.dataset) == ("acme", "Hb")
